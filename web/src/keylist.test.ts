import { describe, expect, it } from "vitest";
import { catalog } from "./fixtures/catalog";
import {
  applyListState,
  capabilityDetail,
  capabilityLine,
  listStateQuery,
  parseListState,
  type ListState,
} from "./keylist";
import type { ApiKey, Grant } from "./types";

const prod = { level: "environment", id: "env_prod", path: "billing / web / production" } as const;
const staging = { level: "environment", id: "env_stg", path: "billing / web / staging" } as const;
const web = { level: "target", id: "tgt_web", path: "billing / web" } as const;
const g = (permission: string, scope: Grant["scope"] = null): Grant => ({ permission, scope });

describe("capabilityLine", () => {
  it.each([
    { name: "allow-all", allow: true, grants: [], want: "Full access" },
    { name: "no grant", allow: false, grants: [], want: "No permissions" },
    { name: "one grant on one node", allow: false, grants: [g("secrets:read", prod)], want: "Read secrets · billing / web / production" },
    { name: "organization-wide", allow: false, grants: [g("billing:read")], want: "Read billing · whole organization" },
    {
      name: "a scope with an empty path shows its id",
      allow: false,
      grants: [g("secrets:read", { level: "environment", id: "env_x", path: "" })],
      want: "Read secrets · env_x",
    },
    {
      name: "one permission on several nodes",
      allow: false,
      grants: [g("secrets:read", prod), g("secrets:read", staging), g("secrets:read", web)],
      want: "Read secrets · 3 scopes",
    },
    {
      name: "two permissions on the same node, in catalog order",
      allow: false,
      grants: [g("secrets:write", prod), g("secrets:read", prod)],
      want: "Read secrets, Write secrets · billing / web / production",
    },
    {
      name: "four permissions on the same node",
      allow: false,
      grants: [g("secrets:read", prod), g("secrets:write", prod), g("secrets:decrypt", prod), g("secrets:history", prod)],
      want: "Read secrets, Write secrets +2 more · billing / web / production",
    },
    {
      name: "permissions on different places",
      allow: false,
      grants: [
        g("secrets:read", prod),
        g("secrets:read", staging),
        g("secrets:read", web),
        g("projects:read"),
        g("billing:read"),
      ],
      want: "Read secrets · 3 scopes, +2 more",
    },
    {
      name: "a group wildcard uses the catalog's label",
      allow: false,
      grants: [g("secrets:*", web)],
      want: "All Secrets permissions · billing / web",
    },
    {
      name: "the same grant twice counts once",
      allow: false,
      grants: [g("secrets:read", prod), g("secrets:read", prod)],
      want: "Read secrets · billing / web / production",
    },
  ])("$name", ({ allow, grants, want }) => {
    expect(capabilityLine({ allow_all: allow, permissions: grants }, catalog)).toBe(want);
  });

  it("falls back to permission names without the catalog", () => {
    expect(capabilityLine({ allow_all: false, permissions: [g("secrets:read", prod)] }, null)).toBe(
      "secrets:read · billing / web / production",
    );
  });

  it("details every grant, one line each", () => {
    const d = capabilityDetail({ allow_all: false, permissions: [g("secrets:read", prod), g("secrets:read", staging), g("billing:read")] }, catalog);
    expect(d.split("\n")).toEqual([
      "Read secrets: billing / web / production; billing / web / staging",
      "Read billing: whole organization",
    ]);
  });
});

describe("list state in the URL", () => {
  it.each<{ name: string; search: string; want: ListState }>([
    { name: "empty", search: "", want: { q: "", filters: [], cursors: [] } },
    {
      name: "search, filters in canonical order, unknown dropped",
      search: "?q=CI+deploy&filter=allow-all,expired,bogus",
      want: { q: "CI deploy", filters: ["expired", "allow-all"], cursors: [] },
    },
    { name: "repeated filter params", search: "?filter=active&filter=unused-30d", want: { q: "", filters: ["active", "unused-30d"], cursors: [] } },
    { name: "cursor trail", search: "?cursor=abc&cursor=d%2Be%3D", want: { q: "", filters: [], cursors: ["abc", "d+e="] } },
  ])("parses $name", ({ search, want }) => {
    expect(parseListState(search)).toEqual(want);
  });

  it.each<{ name: string; state: ListState; want: string }>([
    { name: "the plain first page", state: { q: "", filters: [], cursors: [] }, want: "" },
    { name: "a later page", state: { q: "", filters: [], cursors: ["a", "b+/="] }, want: "?cursor=a&cursor=b%2B%2F%3D" },
    {
      name: "search and filters drop the cursors (every key is loaded then)",
      state: { q: "ci", filters: ["allow-all", "expired"], cursors: ["a"] },
      want: "?q=ci&filter=expired%2Callow-all",
    },
    { name: "a blank search is no search", state: { q: "  ", filters: [], cursors: ["a"] }, want: "?cursor=a" },
  ])("writes $name", ({ state, want }) => {
    expect(listStateQuery(state)).toBe(want);
  });

  it("round-trips", () => {
    const s: ListState = { q: "prod & ci", filters: ["expiring-soon", "never-expires"], cursors: [] };
    expect(parseListState(listStateQuery(s))).toEqual(s);
    const p: ListState = { q: "", filters: [], cursors: ["c1", "c/2"] };
    expect(parseListState(listStateQuery(p))).toEqual(p);
  });
});

describe("applyListState", () => {
  const now = Date.parse("2026-06-01T00:00:00Z");
  const day = 86400000;
  const iso = (t: number) => new Date(t).toISOString();
  const key = (name: string, over: Partial<ApiKey>): ApiKey => ({
    id: `key_${name}`,
    name,
    organization_id: "org_1",
    allow_all: false,
    permissions: [],
    expires_at: null,
    status: "active",
    created_at: iso(now - 100 * day),
    updated_at: iso(now - 100 * day),
    rotated_at: null,
    last_used_at: iso(now - day),
    created_by: null,
    token_hint: "dtk_…abcd",
    version: 1,
    allowed_cidrs: [],
    revocation: null,
    ...over,
  });
  const keys = [
    key("CI deploy", { expires_at: iso(now + 20 * day) }),
    key("Owner", { allow_all: true }),
    key("old-ci", { status: "expired", expires_at: iso(now - day), last_used_at: iso(now - 40 * day) }),
    key("soon", { status: "expiring_soon", expires_at: iso(now + 2 * day), last_used_at: null }),
    key("fresh", { created_at: iso(now - 2 * day), last_used_at: null }),
    key("leaked", { status: "revoked", revocation: { reason: "leaked", at: iso(now - day), reporter: "self_report" } }),
  ];
  const names = (s: Partial<ListState>) =>
    applyListState(keys, { q: "", filters: [], cursors: [], ...s }, now).map((k) => k.name);

  it.each<{ name: string; s: Partial<ListState>; want: string[] }>([
    { name: "nothing chosen", s: {}, want: ["CI deploy", "Owner", "old-ci", "soon", "fresh", "leaked"] },
    { name: "search ignores case", s: { q: "ci" }, want: ["CI deploy", "old-ci"] },
    { name: "active (the server's status)", s: { filters: ["active"] }, want: ["CI deploy", "Owner", "fresh"] },
    { name: "expiring soon", s: { filters: ["expiring-soon"] }, want: ["soon"] },
    { name: "expired", s: { filters: ["expired"] }, want: ["old-ci"] },
    { name: "revoked (the server's status)", s: { filters: ["revoked"] }, want: ["leaked"] },
    { name: "statuses combine with or", s: { filters: ["expired", "expiring-soon"] }, want: ["old-ci", "soon"] },
    { name: "revoked or expired", s: { filters: ["expired", "revoked"] }, want: ["old-ci", "leaked"] },
    { name: "never expires", s: { filters: ["never-expires"] }, want: ["Owner", "fresh", "leaked"] },
    { name: "allow-all", s: { filters: ["allow-all"] }, want: ["Owner"] },
    { name: "unused for 30 days: last use, or creation when never used", s: { filters: ["unused-30d"] }, want: ["old-ci", "soon"] },
    { name: "other filters combine with and", s: { filters: ["never-expires", "allow-all"] }, want: ["Owner"] },
    { name: "search and filter", s: { q: "ci", filters: ["active"] }, want: ["CI deploy"] },
  ])("$name", ({ s, want }) => {
    expect(names(s)).toEqual(want);
  });
});

