import { describe, expect, it } from "vitest";
import { catalog } from "./fixtures/catalog";
import {
  buildCheck,
  expiredBanner,
  keyActions,
  nodeLabel,
  revokedBanner,
  scopeDeleted,
  selfWarning,
  tokenSnippets,
  TOKEN_PLACEHOLDER,
  verdict,
} from "./keypage";
import type { ApiKey, KeyStatus, Scope } from "./types";

describe("scopeDeleted", () => {
  const cases: [string, Scope | null, boolean][] = [
    ["whole organization", null, false],
    ["live environment", { level: "environment", id: "env_1", path: "billing / web / production" }, false],
    ["deleted environment", { level: "environment", id: "env_1", path: "billing / web / (deleted)" }, true],
    ["deleted project above", { level: "target", id: "tgt_1", path: "(deleted) / web" }, true],
    ["deleted team", { level: "team", id: "team_1", path: "(deleted)" }, true],
    ["a name that only contains the word", { level: "team", id: "team_1", path: "not (deleted) yet" }, false],
    ["an empty path", { level: "team", id: "team_1", path: "" }, false],
  ];
  it.each(cases)("%s", (_, scope, want) => expect(scopeDeleted(scope)).toBe(want));
});

describe("keyActions and the expired banner", () => {
  const cases: [KeyStatus, { edit: boolean; rotate: boolean; explore: boolean; remove: boolean }][] = [
    ["active", { edit: true, rotate: true, explore: true, remove: true }],
    ["expiring_soon", { edit: true, rotate: true, explore: true, remove: true }],
    ["expired", { edit: false, rotate: false, explore: true, remove: true }],
    // A leaked token answers 401 everywhere: rotate (which revives the key) or delete.
    ["revoked", { edit: false, rotate: true, explore: false, remove: true }],
  ];
  it.each(cases)("%s", (status, want) => {
    expect(keyActions({ status })).toEqual(want);
    const banner = expiredBanner({ status, expires_at: "2026-01-02T03:04:05Z" }, () => "Jan 2, 2026");
    if (status !== "expired") expect(banner).toBeNull();
    else expect(banner).toBe("This key expired on Jan 2, 2026: it can only be viewed or deleted.");
  });
});

describe("revokedBanner", () => {
  const at = "2026-11-29T12:00:00.000Z";
  const fmt = () => "Nov 29, 2026";
  const todo = "Rotate this key to get a new token; the leaked token never works again. Or delete the key if nothing needs it.";
  it.each<{ name: string; key: Pick<ApiKey, "status" | "revocation">; want: ReturnType<typeof revokedBanner> }>([
    { name: "an active key has none", key: { status: "active", revocation: null }, want: null },
    {
      name: "an expired key keeps the expired banner even if it was revoked",
      key: { status: "expired", revocation: { reason: "leaked", at, reporter: "github" } },
      want: null,
    },
    {
      name: "GitHub secret scanning, with where and what",
      key: {
        status: "revoked",
        revocation: { reason: "leaked", at, reporter: "github", url: " https://github.com/o/r/blob/x/.env ", source: "commit" },
      },
      want: {
        what: "This key was revoked on Nov 29, 2026: its token was reported as leaked by GitHub secret scanning.",
        url: "https://github.com/o/r/blob/x/.env",
        source: "commit",
        todo,
      },
    },
    {
      name: "a self-report without url or source",
      key: { status: "revoked", revocation: { reason: "leaked", at, reporter: "self_report", url: "  " } },
      want: {
        what: "This key was revoked on Nov 29, 2026: its token was reported as leaked by a self-report (someone holding the token sent it to POST /v1/leaks).",
        todo,
      },
    },
  ])("$name", ({ key, want }) => {
    expect(revokedBanner(key, fmt)).toEqual(want);
  });
});

describe("selfWarning", () => {
  it("warns only for the signed-in key", () => {
    expect(selfWarning("rotate", "key_1", "key_2")).toBeNull();
    expect(selfWarning("delete", "key_1", "key_2")).toBeNull();
    expect(selfWarning("rotate", "key_1", "key_1")).toMatch(/signed in with this key.*signs you out/);
    expect(selfWarning("delete", "key_1", "key_1")).toMatch(/signed in with this key.*signs you out/);
    expect(selfWarning("rotate", "key_1", "key_1", 3600)).toMatch(/keeps working until the grace period ends/);
    expect(selfWarning("rotate", "key_1", "key_2", 3600)).toBeNull();
  });
});

describe("tokenSnippets", () => {
  const token = "dotenv_test_abc123XYZ";
  const snippets = tokenSnippets(token);
  it("offers GitHub Actions, GitLab CI (masked) and an .env line", () => {
    expect(snippets.map((s) => s.id)).toEqual(["github", "gitlab", "dotenv"]);
    expect(snippets[0].copied).toBe(`gh secret set DOTENV_API_KEY --body '${token}'`);
    expect(snippets[1].copied).toBe(`glab variable set DOTENV_API_KEY --masked --value '${token}'`);
    expect(snippets[2].copied).toBe(`DOTENV_API_KEY=${token}`);
  });
  it("never shows the token: only what is copied holds it", () => {
    for (const s of snippets) {
      expect(s.shown).not.toContain(token);
      expect(s.shown).toContain(TOKEN_PLACEHOLDER);
      expect(s.copied).toContain(token);
    }
  });
  it("names each copy button distinctly, each name containing the visible label Copy", () => {
    const names = snippets.map((s) => s.copyName);
    expect(names).toEqual(["Copy GitHub Actions command", "Copy GitLab CI command", "Copy .env line"]);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n.startsWith("Copy ")).toBe(true);
  });
  it("quotes a token with a quote for the shell", () => {
    expect(tokenSnippets("a'b")[0].copied).toBe(`gh secret set DOTENV_API_KEY --body 'a'\\''b'`);
  });
});

describe("nodeLabel", () => {
  it("names the organization the same way everywhere, whatever path the answer carries", () => {
    for (const path of ["", "Organization", undefined])
      expect(nodeLabel({ level: "organization", id: "org_1", path }, "Acme")).toBe("Whole organization (Acme)");
    expect(nodeLabel({ level: "environment", id: "env_1", path: "billing / web / production" }, "Acme")).toBe(
      "billing / web / production",
    );
  });
});

describe("buildCheck on the server's catalog", () => {
  const org = { level: "organization" as const, id: "org_1" };
  const env = { level: "environment" as const, id: "env_1" };
  const cases: [string, string, typeof org | typeof env | null, Record<string, string> | null, unknown][] = [
    ["secrets:read on the organization", "secrets:read", org, null, { permission: "secrets:read" }],
    [
      "secrets:read on an environment",
      "secrets:read",
      env,
      null,
      { permission: "secrets:read", resource: { environment: "env_1" } },
    ],
    ["nothing chosen", "", null, { permission: "Choose a permission.", node: expect.any(String) }, null],
    ["not in the catalog", "secrets:fly", org, { permission: "secrets:fly is not a permission of the catalog." }, null],
    [
      "organization-only permission on a node",
      "projects:create",
      env,
      { node: "projects:create applies to the whole organization only." },
      null,
    ],
    [
      "permission not scopable that deep",
      "projects:read",
      env,
      { node: "projects:read applies only at these levels: organization, team, project." },
      null,
    ],
  ];
  it.each(cases)("%s", (_, permission, node, errors, request) => {
    const got = buildCheck(catalog, permission, node);
    expect(got.errors).toEqual(errors ?? {});
    expect(got.request ?? null).toEqual(request);
  });
});

describe("verdict", () => {
  const key = { id: "key_1", organization_id: "org_1", name: "CI", expires_at: null };
  it("says allowed", () => {
    expect(verdict({ valid: true, allowed: true, code: "ok", key })).toEqual({
      allowed: true,
      reason: "One of the key's grants covers this permission here.",
    });
  });
  it("names what is missing", () => {
    const r = verdict({
      valid: true,
      allowed: false,
      code: "forbidden",
      key,
      missing: { permission: "secrets:read", scope: { level: "environment", id: "env_2", path: "billing / web / staging" } },
    });
    expect(r).toEqual({ allowed: false, reason: "The key lacks secrets:read on environment billing / web / staging." });
    expect(verdict({ valid: true, allowed: false, code: "forbidden", key, missing: { permission: "teams:create", scope: null } }).reason).toBe(
      "The key lacks teams:create on the whole organization.",
    );
  });
  it("explains an expired or unknown token", () => {
    expect(verdict({ valid: false, allowed: false, code: "expired", key: null }).reason).toBe("The key has expired.");
    expect(verdict({ valid: false, allowed: false, code: "not_found", key: null }).allowed).toBe(false);
  });
});
