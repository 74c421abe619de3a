import { describe, expect, it } from "vitest";
import { buildDirectory, buildTree, childLevel, type TreeNode } from "./directory";
import type { Environment, Project, Target, Team } from "./types";

const stamp = { organization_id: "org_1", created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" };
const team = (id: string, name: string): Team => ({ id, name, ...stamp });
const project = (id: string, name: string, team_id: string): Project => ({ id, name, team_id, ...stamp });
const target = (id: string, name: string, project_id: string, team_id: string): Target => ({
  id,
  name,
  project_id,
  team_id,
  ...stamp,
});
const env = (id: string, name: string, target_id: string, project_id: string, team_id: string): Environment => ({
  id,
  name,
  target_id,
  project_id,
  team_id,
  ...stamp,
});

/** The tree as indented lines "level name (full path)", for readable expectations. */
function lines(trees: TreeNode[], depth = 0): string[] {
  return trees.flatMap((t) => [
    `${"  ".repeat(depth)}${t.node.level} ${t.node.name} (${t.fullPath})`,
    ...lines(t.children, depth + 1),
  ]);
}

describe("buildTree", () => {
  it("nests teams, projects, targets and environments, each level by name", () => {
    const dir = buildDirectory(
      [team("team_2", "web"), team("team_1", "platform")],
      [project("prj_2", "checkout", "team_1"), project("prj_1", "billing", "team_1"), project("prj_3", "site", "team_2")],
      [target("tgt_1", "web", "prj_1", "team_1"), target("tgt_2", "api", "prj_1", "team_1")],
      [
        env("env_2", "staging", "tgt_1", "prj_1", "team_1"),
        env("env_1", "production", "tgt_1", "prj_1", "team_1"),
        env("env_3", "production", "tgt_2", "prj_1", "team_1"),
      ],
    );
    expect(lines(buildTree(dir))).toEqual([
      "team platform (platform)",
      "  project billing (platform / billing)",
      "    target api (platform / billing / api)",
      "      environment production (platform / billing / api / production)",
      "    target web (platform / billing / web)",
      "      environment production (platform / billing / web / production)",
      "      environment staging (platform / billing / web / staging)",
      "  project checkout (platform / checkout)",
      "team web (web)",
      "  project site (web / site)",
    ]);
  });

  it("keeps nodes whose parent the key cannot read, as roots", () => {
    // The key reads projects and targets but not teams: projects become roots.
    const dir = buildDirectory([], [project("prj_1", "billing", "team_1")], [target("tgt_1", "web", "prj_1", "team_1")], [], true);
    expect(lines(buildTree(dir))).toEqual(["project billing (billing)", "  target web (billing / web)"]);
  });

  it("answers no roots for an empty directory", () => {
    expect(buildTree(buildDirectory([], [], [], []))).toEqual([]);
  });

  it("orders same-named siblings by id, so the tree is stable", () => {
    const dir = buildDirectory([team("team_b", "same"), team("team_a", "same")], [], [], []);
    expect(buildTree(dir).map((t) => t.node.id)).toEqual(["team_a", "team_b"]);
  });
});

describe("childLevel", () => {
  it.each([
    ["team", "project"],
    ["project", "target"],
    ["target", "environment"],
    ["environment", null],
  ] as const)("%s holds %s", (level, want) => {
    expect(childLevel(level)).toBe(want);
  });
});
