import { describe, expect, it } from "vitest";
import { buildDirectory } from "./directory";
import { catalog } from "./fixtures/catalog";
import {
  accessMode,
  applyPreset,
  buildRequest,
  computeExpiry,
  fieldToFormKey,
  filterPermissions,
  findGroup,
  formFromKey,
  groupState,
  groupsByArea,
  includedByWildcard,
  isSelected,
  newForm,
  parseCustomExpiry,
  scopeErrorKey,
  scopeLevelsFor,
  setScopes,
  summarize,
  toggleGroup,
  togglePermission,
  validateForm,
  type FormState,
} from "./rules";
import type { ApiKey } from "./types";

const now = new Date("2026-11-10T12:00:00Z");
const dir = buildDirectory(
  [{ id: "team_1", name: "platform", organization_id: "org_1", created_at: "", updated_at: "" }],
  [{ id: "prj_1", name: "billing", team_id: "team_1", organization_id: "org_1", created_at: "", updated_at: "" }],
  [
    {
      id: "tgt_1",
      name: "web",
      project_id: "prj_1",
      team_id: "team_1",
      organization_id: "org_1",
      created_at: "",
      updated_at: "",
    },
  ],
  [
    {
      id: "env_1",
      name: "production",
      target_id: "tgt_1",
      project_id: "prj_1",
      team_id: "team_1",
      organization_id: "org_1",
      created_at: "",
      updated_at: "",
    },
  ],
);

function form(patch: Partial<FormState> = {}): FormState {
  return { ...newForm(), name: "CI deploy", ...patch };
}

describe("scope levels", () => {
  it("follows the catalog's scope_levels", () => {
    expect(scopeLevelsFor(catalog, "secrets:read")).toEqual(["team", "project", "target", "environment"]);
    expect(scopeLevelsFor(catalog, "encryption_keys:rotate")).toEqual(["team", "project", "target", "environment"]);
    expect(scopeLevelsFor(catalog, "projects:read")).toEqual(["team", "project"]);
    expect(scopeLevelsFor(catalog, "targets:update")).toEqual(["team", "project", "target"]);
    expect(scopeLevelsFor(catalog, "environments:delete")).toEqual(["team", "project", "target", "environment"]);
    expect(scopeLevelsFor(catalog, "teams:read")).toEqual(["team"]);
    expect(scopeLevelsFor(catalog, "members:update")).toEqual(["team"]);
  });

  it("offers nothing for create permissions, organization-wide ones and unknown ones", () => {
    for (const p of ["projects:create", "targets:create", "environments:create", "teams:create", "members:create"])
      expect(scopeLevelsFor(catalog, p)).toEqual([]);
    expect(scopeLevelsFor(catalog, "organizations:read")).toEqual([]);
    expect(scopeLevelsFor(catalog, "billing:manage")).toEqual([]);
    expect(scopeLevelsFor(catalog, "api_tokens:rotate")).toEqual([]);
    expect(scopeLevelsFor(catalog, "nope:read")).toEqual([]);
  });

  it("decides only from what the catalog publishes", () => {
    const c = structuredClone(catalog);
    const billing = findGroup(c, "billing")!;
    billing.permissions[0].scopable = true;
    billing.permissions[0].scope_levels = ["team"];
    billing.wildcard = { name: "billing:*", scopable: true, scope_levels: ["team"] };
    expect(scopeLevelsFor(c, "billing:read")).toEqual(["team"]);
    expect(scopeLevelsFor(c, "billing:*")).toEqual(["team"]);
    const projects = findGroup(c, "projects")!;
    projects.wildcard.scopable = false;
    expect(scopeLevelsFor(c, "projects:*")).toEqual([]);
  });

  it("scopes a wildcard as deep as its group's deepest scopable permission", () => {
    expect(scopeLevelsFor(catalog, "secrets:*")).toEqual(["team", "project", "target", "environment"]);
    // projects:create is never scopable, yet projects:* may be scoped to a team or a project.
    expect(scopeLevelsFor(catalog, "projects:*")).toEqual(["team", "project"]);
    expect(scopeLevelsFor(catalog, "members:*")).toEqual(["team"]);
    expect(scopeLevelsFor(catalog, "billing:*")).toEqual([]);
  });

  it("puts encryption keys under Secrets and keeps the areas in order", () => {
    const areas = groupsByArea(catalog);
    expect(areas.map((a) => a.area)).toEqual([
      "Secrets",
      "Projects",
      "Targets",
      "Environments",
      "Teams",
      "Organizations",
      "Members",
      "API Tokens",
      "Billing",
    ]);
    expect(areas[0].groups.map((g) => g.name)).toEqual(["secrets", "encryption_keys"]);
  });
});

describe("group toggles", () => {
  it("turns every permission of a group on and off", () => {
    const secrets = findGroup(catalog, "secrets")!;
    let f = toggleGroup(form(), catalog, "secrets", true);
    expect(groupState(f, secrets)).toBe("all");
    expect(Object.keys(f.grants)).toHaveLength(6);
    expect(f.grants["secrets:read"]).toEqual([{ level: "", id: "" }]);
    f = togglePermission(f, catalog, "secrets:purge", false);
    expect(groupState(f, secrets)).toBe("some");
    f = toggleGroup(f, catalog, "secrets", false);
    expect(groupState(f, secrets)).toBe("none");
    expect(f.grants).toEqual({});
  });

  it("keeps a permission's scope when the group is turned on", () => {
    let f = togglePermission(form(), catalog, "secrets:read", true);
    f = setScopes(f, "secrets:read", [{ level: "environment", id: "env_1" }]);
    f = toggleGroup(f, catalog, "secrets", true);
    expect(f.grants["secrets:read"]).toEqual([{ level: "environment", id: "env_1" }]);
    expect(f.grants["secrets:write"]).toEqual([{ level: "", id: "" }]);
  });

  it("does not touch other groups", () => {
    let f = togglePermission(form(), catalog, "billing:read", true);
    f = toggleGroup(f, catalog, "secrets", true);
    f = toggleGroup(f, catalog, "secrets", false);
    expect(Object.keys(f.grants)).toEqual(["billing:read"]);
  });

  it("expands a wildcard when one of its permissions is turned off", () => {
    let f = form({ grants: { "secrets:*": [{ level: "project", id: "prj_1" }] } });
    expect(groupState(f, findGroup(catalog, "secrets")!)).toBe("all");
    expect(isSelected(f, "secrets:write")).toBe(true);
    f = togglePermission(f, catalog, "secrets:purge", false);
    expect(f.grants["secrets:*"]).toBeUndefined();
    expect(f.grants["secrets:purge"]).toBeUndefined();
    expect(Object.keys(f.grants).sort()).toEqual(
      ["secrets:decrypt", "secrets:history", "secrets:read", "secrets:restore", "secrets:write"].sort(),
    );
    expect(f.grants["secrets:read"]).toEqual([{ level: "project", id: "prj_1" }]);
  });

  it("never widens a scoped wildcard into a permission it did not grant", () => {
    let f = form({ grants: { "projects:*": [{ level: "team", id: "team_1" }] } });
    expect(includedByWildcard(f, catalog, "projects:read")).toBe(true);
    expect(includedByWildcard(f, catalog, "projects:create")).toBe(false);
    f = togglePermission(f, catalog, "projects:delete", false);
    expect(Object.keys(f.grants).sort()).toEqual(["projects:read", "projects:update"]);
    expect(f.grants["projects:read"]).toEqual([{ level: "team", id: "team_1" }]);
    const org = form({ grants: { "projects:*": [{ level: "", id: "" }] } });
    expect(includedByWildcard(org, catalog, "projects:create")).toBe(true);
    expect(togglePermission(org, catalog, "projects:delete", false).grants["projects:create"]).toEqual([
      { level: "", id: "" },
    ]);
  });

  it("marks every group full under allow all", () => {
    const f = form({ allowAll: true });
    expect(groupState(f, findGroup(catalog, "billing")!)).toBe("all");
  });
});

describe("search", () => {
  it("filters permissions by label, name or description, or keeps a matching group whole", () => {
    const secrets = findGroup(catalog, "secrets")!;
    expect(filterPermissions(secrets, "purge").map((p) => p.name)).toEqual(["secrets:purge"]);
    expect(filterPermissions(secrets, "SECRETS")).toHaveLength(6);
    expect(filterPermissions(secrets, "")).toHaveLength(6);
    expect(filterPermissions(findGroup(catalog, "billing")!, "purge")).toEqual([]);
  });
});

describe("expiry", () => {
  it("adds 30, 60 and 90 days", () => {
    for (const [c, d] of [
      ["30d", 30],
      ["60d", 60],
      ["90d", 90],
    ] as const) {
      const r = computeExpiry(c, now);
      expect(r).toEqual({ ok: true, at: new Date(now.getTime() + d * 86400000) });
    }
  });

  it("adds one calendar year", () => {
    expect(computeExpiry("1y", now)).toEqual({ ok: true, at: new Date("2027-11-10T12:00:00Z") });
    const leap = new Date("2028-02-29T00:00:00Z");
    const r = computeExpiry("1y", leap);
    expect(r.ok && r.at?.toISOString()).toBe("2029-03-01T00:00:00.000Z");
  });

  it("answers null for never", () => {
    expect(computeExpiry("never", now)).toEqual({ ok: true, at: null });
  });

  it("accepts a custom date in the future only", () => {
    const r = computeExpiry("custom", now, "2027-01-31T10:30");
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.at).toEqual(new Date(2027, 0, 31, 10, 30));
    expect(computeExpiry("custom", now, "2020-01-01T00:00")).toEqual({
      ok: false,
      error: "The expiry date must be in the future.",
    });
    expect(computeExpiry("custom", now, "")).toMatchObject({ ok: false });
    expect(computeExpiry("custom", now, "2027-02-30")).toEqual({ ok: false, error: "This is not a valid date." });
    expect(computeExpiry("custom", now, "tomorrow")).toMatchObject({ ok: false });
  });

  it("reads a date without time as the end of that day", () => {
    expect(parseCustomExpiry("2027-01-31")).toEqual(new Date(2027, 0, 31, 23, 59, 0));
  });
});

describe("validation", () => {
  it("requires a name, a permission and a valid expiry", () => {
    const e = validateForm({ ...newForm(), expiry: "custom", customExpiry: "2001-01-01" }, catalog, now);
    expect(Object.keys(e).sort()).toEqual(["expiry", "name", "permissions"]);
  });

  it("limits the name to 100 printable characters", () => {
    const f = togglePermission(form({ name: "x".repeat(101) }), catalog, "secrets:read", true);
    expect(validateForm(f, catalog, now).name).toMatch(/100/);
    expect(validateForm({ ...f, name: "a\u0007b" }, catalog, now).name).toMatch(/printable/);
    expect(validateForm({ ...f, name: "x".repeat(100) }, catalog, now)).toEqual({});
  });

  it("accepts a group wildcard scoped as deep as its deepest scopable permission", () => {
    // Editing a key that holds projects:* on a team: the server allows it, so must the form.
    const f = form({ name: "k", grants: { "projects:*": [{ level: "team", id: "team_1" }] } });
    expect(validateForm(f, catalog, now)).toEqual({});
    const deeper = form({ name: "k", grants: { "projects:*": [{ level: "target", id: "tgt_1" }] } });
    expect(Object.keys(validateForm(deeper, catalog, now))).toEqual([scopeErrorKey("projects:*", 0)]);
  });

  it("needs a node for a chosen level and refuses levels the permission does not allow", () => {
    let f = togglePermission(form(), catalog, "projects:read", true);
    f = setScopes(f, "projects:read", [{ level: "project", id: "" }, { level: "environment", id: "env_1" }]);
    const e = validateForm(f, catalog, now);
    expect(e[scopeErrorKey("projects:read", 0)]).toMatch(/Choose the project/);
    expect(e[scopeErrorKey("projects:read", 1)]).toMatch(/cannot be scoped to an environment/);
  });

  it("accepts allow all without permissions", () => {
    expect(validateForm(form({ allowAll: true }), catalog, now)).toEqual({});
  });
});

describe("request body", () => {
  it("sends permissions with scopes, in catalog order, and an expiration", () => {
    let f = togglePermission(form(), catalog, "projects:read", true);
    f = togglePermission(f, catalog, "secrets:read", true);
    f = setScopes(f, "secrets:read", [{ level: "environment", id: "env_1" }]);
    const { body, grantOrder } = buildRequest(f, catalog, now);
    expect(body).toEqual({
      name: "CI deploy",
      permissions: [
        { permission: "secrets:read", scope: { level: "environment", id: "env_1" } },
        { permission: "projects:read" },
      ],
      expiration: "30d",
    });
    expect(grantOrder).toEqual(["secrets:read", "projects:read"]);
  });

  it("sends exactly one of permissions, preset and allow_all", () => {
    const kinds = (b: object) => ["permissions", "preset", "allow_all"].filter((k) => k in b);
    const preset = applyPreset(form(), catalog, "read-only");
    expect(accessMode(preset, catalog)).toBe("preset");
    expect(buildRequest(preset, catalog, now).body).toEqual({ name: "CI deploy", preset: "read-only", expiration: "30d" });
    expect(kinds(buildRequest(preset, catalog, now).body)).toEqual(["preset"]);

    const all = { ...preset, allowAll: true };
    expect(buildRequest(all, catalog, now).body).toEqual({ name: "CI deploy", allow_all: true, expiration: "30d" });

    // Changing the preset's selection turns it into plain permissions.
    const changed = togglePermission(preset, catalog, "billing:read", true);
    expect(kinds(buildRequest(changed, catalog, now).body)).toEqual(["permissions"]);
    const scoped = setScopes(preset, "secrets:read", [{ level: "project", id: "prj_1" }]);
    expect(kinds(buildRequest(scoped, catalog, now).body)).toEqual(["permissions"]);
  });

  it("sends exactly one of expiration and expires_at", () => {
    const f = togglePermission(form(), catalog, "secrets:read", true);
    for (const c of ["never", "30d", "60d", "90d", "1y"] as const) {
      const b = buildRequest({ ...f, expiry: c }, catalog, now).body;
      expect(b.expiration).toBe(c);
      expect(b.expires_at).toBeUndefined();
    }
    const b = buildRequest({ ...f, expiry: "custom", customExpiry: "2027-01-31T10:30" }, catalog, now).body;
    expect(b.expiration).toBeUndefined();
    expect(b.expires_at).toBe(new Date(2027, 0, 31, 10, 30).toISOString().replace(".000Z", "Z"));
  });

  it("deduplicates repeated scopes", () => {
    const f = setScopes(togglePermission(form(), catalog, "secrets:read", true), "secrets:read", [
      { level: "project", id: "prj_1" },
      { level: "project", id: "prj_1" },
    ]);
    expect(buildRequest(f, catalog, now).body.permissions).toEqual([
      { permission: "secrets:read", scope: { level: "project", id: "prj_1" } },
    ]);
  });

  const key: ApiKey = {
    id: "key_1",
    name: "CI deploy",
    organization_id: "org_1",
    allow_all: false,
    permissions: [
      { permission: "secrets:read", scope: { level: "environment", id: "env_1", path: "billing / web / production" } },
      { permission: "projects:read", scope: null },
    ],
    expires_at: "2026-12-01T00:00:00Z",
    status: "active",
    created_at: "2026-11-01T00:00:00Z",
    updated_at: "2026-11-01T00:00:00Z",
    rotated_at: null,
    last_used_at: null,
    created_by: "key_0",
    token_hint: "dotenv_AbCd…wxyz",
    version: 1,
    allowed_cidrs: [],
    revocation: null,
  };

  it("on edit sends only what changed", () => {
    const f = formFromKey(key);
    expect(f.grants["secrets:read"]).toEqual([{ level: "environment", id: "env_1", path: "billing / web / production" }]);
    expect(buildRequest(f, catalog, now, key).body).toEqual({});
    expect(buildRequest({ ...f, name: "CI deploy 2" }, catalog, now, key).body).toEqual({ name: "CI deploy 2" });
    expect(buildRequest({ ...f, expiry: "never" }, catalog, now, key).body).toEqual({ expiration: "never" });
    const more = togglePermission(f, catalog, "targets:read", true);
    expect(buildRequest(more, catalog, now, key).body.permissions).toHaveLength(3);
    expect(buildRequest({ ...f, allowAll: true }, catalog, now, key).body).toEqual({ allow_all: true });
    expect(buildRequest(f, catalog, now, { ...key, allow_all: true }).body.permissions).toHaveLength(2);
  });

  it("sends allowed networks on create when given, and on edit only when changed ([] clears them)", () => {
    expect(buildRequest(form({ networks: " 203.0.113.0/24 \n\n2001:db8::/32\n" }), catalog, now).body.allowed_cidrs).toEqual([
      "203.0.113.0/24",
      "2001:db8::/32",
    ]);
    expect(buildRequest(form({ networks: "\n  " }), catalog, now).body).not.toHaveProperty("allowed_cidrs");
    const limited = { ...key, allowed_cidrs: ["10.0.0.0/8", "203.0.113.0/24"] };
    const f = formFromKey(limited);
    expect(f.networks).toBe("10.0.0.0/8\n203.0.113.0/24");
    expect(buildRequest(f, catalog, now, limited).body).toEqual({});
    expect(buildRequest({ ...f, networks: "10.0.0.0/8" }, catalog, now, limited).body).toEqual({ allowed_cidrs: ["10.0.0.0/8"] });
    expect(buildRequest({ ...f, networks: "" }, catalog, now, limited).body).toEqual({ allowed_cidrs: [] });
    expect(summarize({ ...f }, catalog, null, now, null)).toContain("Usable only from the networks 10.0.0.0/8, 203.0.113.0/24.");
    expect(summarize(formFromKey(key), catalog, null, now, null).some((l) => l.startsWith("Usable only"))).toBe(false);
  });

  it("places server field errors in the form", () => {
    expect(fieldToFormKey("name", [])).toBe("name");
    expect(fieldToFormKey("expires_at", [])).toBe("expiry");
    expect(fieldToFormKey("allowed_cidrs", [])).toBe("networks");
    expect(fieldToFormKey("allowed_cidrs[3]", [])).toBe("networks");
    expect(fieldToFormKey("permissions[1].scope.id", ["secrets:read", "projects:read"])).toBe("perm:projects:read");
    expect(fieldToFormKey("permissions", [])).toBe("permissions");
    expect(fieldToFormKey("whatever", [])).toBe("form");
  });
});

describe("summary", () => {
  it("describes allow all", () => {
    expect(summarize(form({ allowAll: true, expiry: "never" }), catalog, dir, now)).toEqual([
      "Full access to everything in the organization, including permissions added later.",
      "Never expires.",
    ]);
  });

  it("describes the preset", () => {
    expect(summarize(applyPreset(form(), catalog, "read-only"), catalog, dir, now)).toEqual([
      "Read-only preset: Read secrets, Read projects, Read targets, Read environments, Read the organization, across the whole organization.",
      "Expires 2026-12-10 12:00 UTC (in 30 days).",
    ]);
  });

  it("names scopes by their path", () => {
    let f = togglePermission(form({ expiry: "1y" }), catalog, "secrets:read", true);
    f = setScopes(f, "secrets:read", [{ level: "environment", id: "env_1" }]);
    f = togglePermission(f, catalog, "billing:read", true);
    f = { ...f, grants: { ...f.grants, "targets:*": [{ level: "", id: "" }] } };
    expect(summarize(f, catalog, dir, now)).toEqual([
      "Read secrets: only in environment billing / web / production.",
      "All Targets permissions (including ones added later): across the whole organization.",
      "Read billing: across the whole organization.",
      "Expires 2027-11-10 12:00 UTC (in 365 days).",
    ]);
  });

  it("says when nothing is selected and when the expiry is kept", () => {
    expect(summarize(form({ expiry: "keep" }), catalog, dir, now, "2026-12-01T00:00:00Z")).toEqual([
      "No permissions yet: the key could not do anything.",
      "Keeps its expiry: 2026-12-01 00:00 UTC.",
    ]);
    expect(summarize(form({ expiry: "custom" }), catalog, dir, now)[1]).toBe("Expiry not chosen yet.");
  });
});
