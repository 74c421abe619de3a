// The form's area choices, "where" and signed-in key limits, on the real
// catalog (fixtures/catalog.json) and the server's no-escalation cases
// (fixtures/rules.json, computed by shared/authz).
import { describe, expect, it } from "vitest";
import {
  applyAreaChoice,
  applyWhere,
  areaChoiceOf,
  cannotGrant,
  choiceDisabled,
  choicePermissions,
  expiryDisabled,
  formAreas,
  holderFromKey,
  permissionDisabled,
  setPermission,
  whereOf,
  type FormArea,
  type Holder,
  type Where,
} from "./areas";
import { buildDirectory } from "./directory";
import { catalog } from "./fixtures/catalog";
import { rules } from "./fixtures/rules";
import { buildRequest, newForm, type FormState } from "./rules";
import type { ApiKey } from "./types";

const now = new Date("2026-11-10T12:00:00Z");
const base = { organization_id: "org_1", created_at: "", updated_at: "" };
const dir = buildDirectory(
  [{ id: "team_a", name: "platform", ...base }],
  [{ id: "prj_a", name: "billing", team_id: "team_a", ...base }],
  [{ id: "tgt_a", name: "web", project_id: "prj_a", team_id: "team_a", ...base }],
  [{ id: "env_a", name: "production", target_id: "tgt_a", project_id: "prj_a", team_id: "team_a", ...base }],
);
const env: Where = [{ level: "environment", id: "env_a", path: "billing / web / production" }];
const team: Where = [{ level: "team", id: "team_a", path: "platform" }];

const area = (id: string): FormArea => formAreas(catalog).find((a) => a.id === id)!;
const form = (patch: Partial<FormState> = {}): FormState => ({ ...newForm(), name: "k", ...patch });

function key(patch: Partial<ApiKey>): ApiKey {
  return {
    id: "key_1",
    name: "signed in",
    organization_id: "org_1",
    allow_all: false,
    permissions: [],
    expires_at: null,
    status: "active",
    created_at: "",
    updated_at: "",
    rotated_at: null,
    last_used_at: null,
    created_by: null,
    token_hint: "",
    version: 1,
    allowed_cidrs: [],
    revocation: null,
    ...patch,
  };
}

describe("formAreas", () => {
  it("puts every catalog group in exactly one area, in the issue's order", () => {
    const areas = formAreas(catalog);
    expect(areas.map((a) => a.id)).toEqual(["secrets", "projects", "organization", "api_tokens", "billing"]);
    const groups = areas.flatMap((a) => a.groups.map((g) => g.name)).sort();
    expect(groups).toEqual(catalog.groups.map((g) => g.name).sort());
    expect(area("secrets").groups.map((g) => g.name)).toEqual(["secrets", "encryption_keys"]);
    expect(area("projects").groups.map((g) => g.name)).toEqual(["projects", "targets", "environments", "teams", "members"]);
  });

  it("gives a catalog area it does not know an area of its own", () => {
    const extra = {
      ...catalog,
      groups: [...catalog.groups, { ...catalog.groups[0], name: "audit", label: "Audit", area: "Audit log" }],
    };
    expect(formAreas(extra).map((a) => a.id)).toContain("audit_log");
  });
});

describe("choicePermissions", () => {
  const cases: { area: string; choice: "read" | "write"; where: Where; want: string[] }[] = [
    { area: "secrets", choice: "read", where: [], want: ["secrets:read", "secrets:history", "encryption_keys:read"] },
    {
      area: "secrets",
      choice: "write",
      where: [],
      want: [
        "secrets:read",
        "secrets:write",
        "secrets:decrypt",
        "secrets:history",
        "secrets:restore",
        "encryption_keys:read",
        "encryption_keys:rotate",
      ],
    },
    { area: "secrets", choice: "read", where: env, want: ["secrets:read", "secrets:history", "encryption_keys:read"] },
    {
      area: "projects",
      choice: "write",
      where: [],
      want: [
        "projects:create",
        "projects:read",
        "projects:update",
        "targets:create",
        "targets:read",
        "targets:update",
        "environments:create",
        "environments:read",
        "environments:update",
        "teams:create",
        "teams:read",
        "teams:update",
        "members:create",
        "members:read",
        "members:update",
      ],
    },
    // Creates are never scopable; only environments can be narrowed to an environment.
    { area: "projects", choice: "write", where: env, want: ["environments:read", "environments:update"] },
    {
      area: "projects",
      choice: "read",
      where: team,
      want: ["projects:read", "targets:read", "environments:read", "teams:read", "members:read"],
    },
    { area: "billing", choice: "read", where: [], want: ["billing:read"] },
    { area: "billing", choice: "read", where: team, want: [] },
    { area: "api_tokens", choice: "write", where: [], want: ["api_tokens:create", "api_tokens:read", "api_tokens:update", "api_tokens:rotate"] },
  ];
  for (const c of cases)
    it(`${c.area} ${c.choice} at ${c.where.map((w) => w.level).join(",") || "organization"}`, () => {
      expect(choicePermissions(catalog, area(c.area), c.choice, c.where)).toEqual(c.want);
    });
});

describe("area choices and the request body", () => {
  it("read on an environment sends each read permission scoped there", () => {
    const f = applyAreaChoice(form(), catalog, area("secrets"), "read", env);
    expect(areaChoiceOf(f, catalog, area("secrets"), env)).toBe("read");
    expect(areaChoiceOf(f, catalog, area("projects"), env)).toBe("none");
    const { body } = buildRequest(f, catalog, now);
    expect(body.permissions).toEqual([
      { permission: "secrets:read", scope: { level: "environment", id: "env_a" } },
      { permission: "secrets:history", scope: { level: "environment", id: "env_a" } },
      { permission: "encryption_keys:read", scope: { level: "environment", id: "env_a" } },
    ]);
  });

  it("a selection that is neither read nor write is custom; none clears the area only", () => {
    let f = applyAreaChoice(form(), catalog, area("secrets"), "write", []);
    f = applyAreaChoice(f, catalog, area("billing"), "read", []);
    expect(areaChoiceOf(f, catalog, area("secrets"), [])).toBe("write");
    f = setPermission(f, catalog, "secrets:purge", true, []);
    expect(areaChoiceOf(f, catalog, area("secrets"), [])).toBe("custom");
    f = applyAreaChoice(f, catalog, area("secrets"), "none", []);
    expect(Object.keys(f.grants)).toEqual(["billing:read"]);
  });

  it("a permission that cannot be narrowed to the where is given organization-wide in Custom", () => {
    const f = setPermission(form(), catalog, "projects:create", true, env);
    expect(f.grants["projects:create"]).toEqual([{ level: "", id: "" }]);
  });

  it("moving the where re-chooses read/write areas and rescopes the rest", () => {
    let f = applyAreaChoice(form(), catalog, area("projects"), "write", []);
    f = applyAreaChoice(f, catalog, area("billing"), "read", []);
    f = setPermission(f, catalog, "secrets:purge", true, []);
    f = setPermission(f, catalog, "api_tokens:rotate", true, []);
    f = applyWhere(f, catalog, [], env);
    expect(areaChoiceOf(f, catalog, area("projects"), env)).toBe("write");
    // Billing "Read" cannot be given on an environment: the area drops to none
    // (its Read is then disabled with the reason); custom permissions move
    // when they can and stay organization-wide when they cannot.
    expect(Object.keys(f.grants).sort()).toEqual(["api_tokens:rotate", "environments:read", "environments:update", "secrets:purge"]);
    expect(f.grants["secrets:purge"]).toEqual(env);
    expect(f.grants["api_tokens:rotate"]).toEqual([{ level: "", id: "" }]);
  });

  it("whereOf answers the whole organization when scoped grants disagree", () => {
    const f = form({ grants: { "secrets:read": env, "projects:read": team } });
    expect(whereOf(f)).toEqual([]);
  });
});

describe("what the signed-in key cannot give", () => {
  const narrow: Holder = holderFromKey(
    key({ permissions: [{ permission: "secrets:read", scope: { level: "project", id: "prj_a", path: "billing" } }] }),
    dir,
  );
  const cases: { name: string; holder: Holder | null; perm: string; where: Where; disabled: boolean }[] = [
    { name: "unknown holder: the server decides", holder: null, perm: "billing:manage", where: [], disabled: false },
    { name: "allow all gives anything", holder: holderFromKey(key({ allow_all: true }), dir), perm: "billing:manage", where: [], disabled: false },
    { name: "inside its project", holder: narrow, perm: "secrets:read", where: env, disabled: false },
    { name: "organization-wide, wider than its project", holder: narrow, perm: "secrets:read", where: [], disabled: true },
    { name: "a permission it lacks", holder: narrow, perm: "secrets:write", where: env, disabled: true },
    { name: "a team above its project", holder: narrow, perm: "secrets:read", where: team, disabled: true },
  ];
  for (const c of cases)
    it(c.name, () => {
      const why = permissionDisabled(catalog, c.holder, c.perm, c.where, dir);
      expect(why !== null).toBe(c.disabled);
      if (why) expect(why).toMatch(/^Your key cannot give “/);
    });

  it("disables an area's choice with the first reason", () => {
    expect(choiceDisabled(catalog, narrow, area("secrets"), "read", env, dir)).toBe(
      "Your key cannot give “Secret history” on billing / web / production.",
    );
    expect(choiceDisabled(catalog, null, area("billing"), "read", team, dir)).toBe(
      "Billing cannot be narrowed to a team: choose the whole organization.",
    );
    expect(choiceDisabled(catalog, null, area("billing"), "read", env, dir)).toMatch(/to an environment:/);
  });

  it("agrees with the server's no-escalation cases (shared/authz)", () => {
    const nodes = new Map(rules.nodes.map((n) => [n.id, n]));
    const golden = buildDirectory([], [], [], []);
    for (const n of rules.nodes)
      golden.byId.set(n.id, { level: n.level, id: n.id, name: n.id, path: n.id, teamId: null, projectId: null, targetId: null, lineage: n.lineage });
    const split = (t: string) => {
      const at = t.indexOf("@");
      return at < 0 ? { permission: t, id: "" } : { permission: t.slice(0, at), id: t.slice(at + 1) };
    };
    const wrong: string[] = [];
    for (const [h, covered] of Object.entries(rules.covers)) {
      const hs = split(h);
      const holder = holderFromKey(
        key({ permissions: [{ permission: hs.permission, scope: hs.id ? { level: nodes.get(hs.id)!.level, id: hs.id, path: hs.id } : null }] }),
        golden,
      );
      for (const w of Object.keys(rules.covers)) {
        const ws = split(w);
        const scope = ws.id ? { level: nodes.get(ws.id)!.level, id: ws.id } : { level: "" as const, id: "" };
        const gives = cannotGrant(catalog, holder, ws.permission, [scope], golden) === null;
        if (gives !== covered.includes(w)) wrong.push(`${h} gives ${w}: server ${covered.includes(w) ? "yes" : "no"}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe("expiry against the signed-in key's", () => {
  const h = (expiresAt: string | null): Holder => ({ allowAll: true, grants: [], expiresAt });
  const cases: { choice: "30d" | "90d" | "never" | "until"; expiresAt: string | null; disabled: boolean }[] = [
    { choice: "30d", expiresAt: null, disabled: false },
    { choice: "never", expiresAt: null, disabled: false },
    { choice: "30d", expiresAt: "2026-12-01T00:00:00Z", disabled: true },
    { choice: "30d", expiresAt: "2027-01-01T00:00:00Z", disabled: false },
    { choice: "90d", expiresAt: "2027-01-01T00:00:00Z", disabled: true },
    { choice: "never", expiresAt: "2027-01-01T00:00:00Z", disabled: true },
    { choice: "until", expiresAt: "2027-01-01T00:00:00Z", disabled: false },
  ];
  for (const c of cases)
    it(`${c.choice} with a key expiring ${c.expiresAt ?? "never"}`, () => {
      const why = expiryDisabled(h(c.expiresAt), c.choice, now);
      expect(why !== null).toBe(c.disabled);
      if (why) expect(why).toBe(`Past your key's own expiry (${c.expiresAt!.slice(0, 16).replace("T", " ")} UTC).`);
    });

  it("'until my key expires' sends expires_at", () => {
    const f = form({ expiry: "until", untilExpiry: "2026-12-01T00:00:00Z", grants: { "billing:read": [{ level: "", id: "" }] } });
    expect(buildRequest(f, catalog, now).body).toMatchObject({ expires_at: "2026-12-01T00:00:00Z" });
    expect(buildRequest(f, catalog, now).body.expiration).toBeUndefined();
  });
});
