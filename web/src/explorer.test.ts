import { describe, expect, it } from "vitest";
import { ApiClient, ApiError } from "./api";
import { buildDirectory } from "./directory";
import {
  candidates,
  defaultValues,
  estimateAccess,
  fillPath,
  hiddenCell,
  hiddenLabel,
  hiddenReason,
  isDestructive,
  networkText,
  parseBody,
  parseHeaders,
  placeholders,
  routeAccess,
} from "./explorer";
import { catalog } from "./fixtures/catalog";
import type { ApiKey } from "./types";

const base = { organization_id: "org_1", created_at: "", updated_at: "" };
const dir = buildDirectory(
  [{ id: "team_1", name: "platform", ...base }],
  [
    { id: "prj_1", name: "billing", team_id: "team_1", ...base },
    { id: "prj_2", name: "auth", team_id: "team_1", ...base },
  ],
  [
    { id: "tgt_1", name: "web", project_id: "prj_1", team_id: "team_1", ...base },
    { id: "tgt_2", name: "api", project_id: "prj_2", team_id: "team_1", ...base },
  ],
  [
    { id: "env_1", name: "production", target_id: "tgt_1", project_id: "prj_1", team_id: "team_1", ...base },
    { id: "env_2", name: "staging", target_id: "tgt_1", project_id: "prj_1", team_id: "team_1", ...base },
  ],
);

const key: ApiKey = {
  id: "key_1",
  name: "k",
  organization_id: "org_1",
  allow_all: false,
  permissions: [
    { permission: "environments:read", scope: { level: "project", id: "prj_1", path: "billing" } },
    { permission: "secrets:read", scope: { level: "environment", id: "env_1", path: "billing / web / production" } },
  ],
  expires_at: null,
  status: "active",
  created_at: "",
  updated_at: "",
  rotated_at: null,
  last_used_at: null,
  created_by: "",
  token_hint: "",
  version: 1,
  allowed_cidrs: [],
  revocation: null,
};

describe("directory", () => {
  it("builds readable paths", () => {
    expect(dir.byId.get("env_1")?.path).toBe("billing / web / production");
    expect(dir.byId.get("tgt_2")?.path).toBe("auth / api");
    expect(dir.byId.get("env_2")?.lineage).toEqual(["team_1", "prj_1", "tgt_1", "env_2"]);
  });
});

describe("route placeholders", () => {
  const envs = "/v1/projects/{project}/targets/{target}/environments";
  it("finds and fills placeholders", () => {
    expect(placeholders(envs)).toEqual(["project", "target"]);
    expect(fillPath(envs, { project: "prj_1", target: "tgt_1" })).toBe("/v1/projects/prj_1/targets/tgt_1/environments");
    expect(fillPath("/v1/teams/{team}", {})).toBe("/v1/teams/{team}");
  });

  it("narrows children to the chosen parent and picks defaults", () => {
    expect(candidates(dir, "target", { project: "prj_2" }).map((n) => n.id)).toEqual(["tgt_2"]);
    expect(defaultValues(dir, envs, {}, "key_1")).toEqual({ project: "prj_2", target: "tgt_2" });
    expect(defaultValues(dir, envs, { project: "prj_1" }, "key_1")).toEqual({ project: "prj_1", target: "tgt_1" });
    expect(defaultValues(dir, "/v1/api-keys/{id}", {}, "key_1")).toEqual({ id: "key_1" });
  });
});

describe("access", () => {
  const access = estimateAccess(key, catalog, dir);
  const routes = Object.fromEntries(catalog.routes.map((r) => [r.operation, r]));

  it("follows scopes down the hierarchy", () => {
    const at = (perm: string, id: string) => access.find((a) => a.permission === perm && a.node.id === id)?.allowed;
    expect(at("environments:read", "env_2")).toBe(true);
    expect(at("environments:read", "prj_2")).toBe(false);
    expect(at("environments:read", "org_1")).toBe(false);
    expect(at("secrets:read", "env_1")).toBe(true);
    expect(at("secrets:read", "env_2")).toBe(false);
    expect(access.some((a) => a.permission === "projects:read" && a.allowed)).toBe(false);
  });

  it("greys routes the key cannot call and names the permission", () => {
    expect(routeAccess(routes.listProjects, access, {})).toEqual({ allowed: false, missing: "projects:read" });
    expect(routeAccess(routes.listPermissions, access, {})).toEqual({ allowed: true });
    expect(routeAccess(routes.listEnvironments, access, { project: "prj_1", target: "tgt_1" })).toEqual({
      allowed: true,
    });
    expect(routeAccess(routes.listEnvironments, access, { project: "prj_2", target: "tgt_2" })).toEqual({
      allowed: false,
      missing: "environments:read",
    });
  });

  it("allows everything under allow all", () => {
    const all = estimateAccess({ ...key, allow_all: true, permissions: [] }, catalog, dir);
    expect(all.every((a) => a.allowed)).toBe(true);
  });
});

describe("confirmations and inputs", () => {
  it("flags destructive calls", () => {
    expect(isDestructive("DELETE", "/v1/teams/team_1")).toBe(true);
    expect(isDestructive("POST", "/v1/api-keys/key_1/rotate")).toBe(true);
    expect(isDestructive("POST", "/v1/secrets/x/purge")).toBe(true);
    expect(isDestructive("POST", "/v1/x", "secrets:purge")).toBe(true);
    expect(isDestructive("GET", "/v1/projects", "projects:read")).toBe(false);
    expect(isDestructive("PATCH", "/v1/projects/prj_1")).toBe(false);
  });

  it("parses headers and bodies", () => {
    expect(parseHeaders("X-Trace: 1\n\nAccept: application/json")).toEqual({
      headers: { "X-Trace": "1", Accept: "application/json" },
    });
    expect(parseHeaders("nonsense").error).toMatch(/Line 1/);
    expect(parseHeaders("Authorization: Bearer x").error).toMatch(/token field/);
    expect(parseBody("")).toEqual({ body: null });
    expect(parseBody('{"name":"x"}')).toEqual({ body: { name: "x" } });
    expect(parseBody("{").error).toMatch(/not valid JSON/);
  });
});

describe("api client", () => {
  it("sends the bearer token, If-Match and JSON, and reads the ETag", async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fake = async (url: RequestInfo | URL, init?: RequestInit) => {
      calls.push({ url: String(url), init: init! });
      return new Response(JSON.stringify({ id: "key_1" }), { status: 200, headers: { ETag: '"v2"' } });
    };
    const c = new ApiClient("https://api.example/", "tok", fake as typeof fetch);
    const r = await c.updateKey("key_1", { name: "x" }, '"v1"');
    expect(r.etag).toBe('"v2"');
    expect(calls[0].url).toBe("https://api.example/v1/api-keys/key_1");
    const h = calls[0].init.headers as Record<string, string>;
    expect(h.Authorization).toBe("Bearer tok");
    expect(h["If-Match"]).toBe('"v1"');
    expect(h["Content-Type"]).toBe("application/json");
    expect(calls[0].init.body).toBe('{"name":"x"}');
    await c.verify("tok2");
    expect((calls[1].init.headers as Record<string, string>).Authorization).toBeUndefined();
    await c.listKeys({ limit: 20, cursor: "abc" });
    expect(calls[2].url).toBe("https://api.example/v1/api-keys?limit=20&cursor=abc");
  });

  it("turns problem+json into an ApiError", async () => {
    const problem = { title: "Invalid", status: 400, code: "validation_failed", errors: [{ field: "name", message: "too long" }] };
    const c = new ApiClient("", "t", (async () =>
      new Response(JSON.stringify(problem), { status: 400, headers: { "Content-Type": "application/problem+json" } })) as typeof fetch);
    const err = await c.createKey({ name: "x" }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(400);
    expect(err.code).toBe("validation_failed");
    expect(err.fieldErrors()).toEqual([{ field: "name", message: "too long" }]);
  });
});

describe("levels the key may not list", () => {
  const h = {
    level: "team" as const,
    count: 3,
    list_permission: "teams:read",
    permissions: [
      { permission: "secrets:read", allowed: 1, denied: 2 },
      { permission: "teams:read", allowed: 0, denied: 3 },
      { permission: "secrets:write", allowed: 3, denied: 0 },
    ],
  };
  it("counts them without naming them", () => {
    expect(hiddenLabel(h)).toBe("3 teams not shown");
    expect(hiddenLabel({ ...h, level: "environment", count: 1 })).toBe("1 environment not shown");
    expect(hiddenReason(h)).toContain("teams:read");
  });
  it("summarizes each permission over them", () => {
    expect(hiddenCell(h, "secrets:read")).toEqual({ state: "some", label: "allowed on 1 of 3" });
    expect(hiddenCell(h, "teams:read")).toEqual({ state: "no", label: "not allowed on any of them" });
    expect(hiddenCell(h, "secrets:write")).toEqual({ state: "yes", label: "allowed on all 3" });
    expect(hiddenCell(h, "billing:read")).toBeNull();
  });
});

describe("networkText", () => {
  it.each<[string, { client_ip: string | null; allowed: boolean }, string[], { text: string; allowed: boolean }]>([
    [
      "no allowlist",
      { client_ip: "203.0.113.7", allowed: true },
      [],
      { text: "Called from 203.0.113.7: the key may be used from any network.", allowed: true },
    ],
    [
      "inside",
      { client_ip: "10.1.2.3", allowed: true },
      ["10.0.0.0/8"],
      { text: "Called from 10.1.2.3: inside the key's allowed networks (10.0.0.0/8).", allowed: true },
    ],
    [
      "outside",
      { client_ip: "127.0.0.1", allowed: false },
      ["10.0.0.0/8", "192.0.2.0/24"],
      {
        text: "Called from 127.0.0.1: outside the key's allowed networks (10.0.0.0/8, 192.0.2.0/24); used from here, the key is refused with ip_not_allowed.",
        allowed: false,
      },
    ],
    [
      "unknown address",
      { client_ip: null, allowed: false },
      ["10.0.0.0/8"],
      {
        text: "The address of this call is unknown: outside the key's allowed networks (10.0.0.0/8); used from here, the key is refused with ip_not_allowed.",
        allowed: false,
      },
    ],
  ])("%s", (_, network, cidrs, want) => expect(networkText(network, cidrs)).toEqual(want));
});
