import { describe, expect, it } from "vitest";
import openapiText from "../../docs/openapi.json?raw";
import { ApiClient, createNodeRequest, nodePath } from "./api";

/** The OpenAPI template of a concrete path: every id segment becomes {…}. */
const template = (path: string) =>
  path
    .replace(/\/teams\/[^/]+/, "/teams/{team}")
    .replace(/\/projects\/[^/]+/, "/projects/{project}")
    .replace(/\/targets\/[^/]+/, "/targets/{target}")
    .replace(/\/environments\/[^/]+/, "/environments/{environment}");

const paths = (JSON.parse(openapiText) as { paths: Record<string, Record<string, unknown>> }).paths;

describe("directory node addresses", () => {
  const nodes = [
    { level: "team", id: "team_1" },
    { level: "project", id: "prj_1" },
    { level: "target", id: "tgt_1", projectId: "prj_1" },
    { level: "environment", id: "env_1", projectId: "prj_1", targetId: "tgt_1" },
  ] as const;

  it("renames and deletes at the contract's paths", () => {
    expect(nodes.map(nodePath)).toEqual([
      "/v1/teams/team_1",
      "/v1/projects/prj_1",
      "/v1/projects/prj_1/targets/tgt_1",
      "/v1/projects/prj_1/targets/tgt_1/environments/env_1",
    ]);
    for (const n of nodes) {
      const op = paths[template(nodePath(n))];
      expect(op?.patch, nodePath(n)).toBeDefined();
      expect(op?.delete, nodePath(n)).toBeDefined();
    }
  });

  it("creates each level under its parent, a project naming its team in the body", () => {
    const cases = [
      createNodeRequest("team", "platform", null),
      createNodeRequest("project", "billing", nodes[0]),
      createNodeRequest("target", "web", nodes[1]),
      createNodeRequest("environment", "production", nodes[2]),
    ];
    expect(cases).toEqual([
      { path: "/v1/teams", body: { name: "platform" } },
      { path: "/v1/projects", body: { name: "billing", team_id: "team_1" } },
      { path: "/v1/projects/prj_1/targets", body: { name: "web" } },
      { path: "/v1/projects/prj_1/targets/tgt_1/environments", body: { name: "production" } },
    ]);
    for (const c of cases) expect(paths[template(c.path)]?.post, c.path).toBeDefined();
  });

  it("escapes ids", () => {
    expect(nodePath({ level: "team", id: "a/b" })).toBe("/v1/teams/a%2Fb");
  });

  it("sends PATCH with the new name and DELETE, and surfaces a 409's message", async () => {
    const sent: { method: string; url: string; body: unknown }[] = [];
    const fake = async (url: RequestInfo | URL, init?: RequestInit) => {
      sent.push({ method: init?.method ?? "GET", url: String(url), body: init?.body ? JSON.parse(String(init.body)) : null });
      if (init?.method === "DELETE")
        return new Response(JSON.stringify({ code: "conflict", detail: "team platform still has projects" }), {
          status: 409,
          headers: { "Content-Type": "application/problem+json" },
        });
      return new Response(JSON.stringify({ id: "team_1", name: "core" }), { status: 200 });
    };
    const c = new ApiClient("https://api.example", "t", fake as typeof fetch);
    expect((await c.renameNode(nodes[0], "core")).name).toBe("core");
    await expect(c.deleteNode(nodes[0])).rejects.toThrow("team platform still has projects");
    expect(sent).toEqual([
      { method: "PATCH", url: "https://api.example/v1/teams/team_1", body: { name: "core" } },
      { method: "DELETE", url: "https://api.example/v1/teams/team_1", body: null },
    ]);
  });
});
