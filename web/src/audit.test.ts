import { describe, expect, it } from "vitest";
import openapiText from "../../docs/openapi.json?raw";
import {
  AUDIT_ACTIONS,
  actionLabel,
  auditFilter,
  auditStateQuery,
  changesOf,
  eventSentence,
  exportFileName,
  isoToLocal,
  localToIso,
  mayReadAudit,
  parseAuditState,
  validateAuditState,
} from "./audit";
import { catalog as base } from "./fixtures/catalog";
import { keyRotated, keyUpdated, recovered } from "./fixtures/issue11";
import { findPermission, groupFor } from "./rules";
import type { Catalog, Grant } from "./types";

// The published catalog has audit_log:read once the audit API is on main;
// until then the tests add it as the contract describes it (area
// Organization, never scopable, its own group).
const catalog: Catalog = findPermission(base, "audit_log:read")
  ? base
  : {
      ...base,
      groups: [
        ...base.groups,
        {
          name: "audit_log",
          label: "Audit log",
          area: "Organization",
          wildcard: { name: "audit_log:*", scopable: false, scope_levels: [] },
          permissions: [
            { name: "audit_log:read", action: "read", label: "Read audit log", description: "", scopable: false, scope_levels: null },
          ],
        },
      ],
    };

describe("mayReadAudit", () => {
  const wildcard = groupFor(catalog, "audit_log:read")!.wildcard.name;
  const cases: [string, boolean, Grant[], boolean][] = [
    ["allow-all", true, [], true],
    ["audit_log:read organization-wide", false, [{ permission: "audit_log:read", scope: null }], true],
    ["its group's wildcard", false, [{ permission: wildcard, scope: null }], true],
    ["only other permissions", false, [{ permission: "secrets:read", scope: null }, { permission: "api_tokens:read", scope: null }], false],
    ["a scoped grant (never allows an organization permission)", false, [{ permission: "audit_log:read", scope: { level: "team", id: "team_1", path: "platform" } }], false],
    ["nothing", false, [], false],
  ];
  it.each(cases)("%s", (_, allow_all, permissions, want) => expect(mayReadAudit(catalog, { allow_all, permissions })).toBe(want));
});

describe("eventSentence", () => {
  it("says who did what to which, from where", () => {
    expect(eventSentence(keyUpdated)).toBe("Key “Owner key” edited the API key “CI deploy (web)” from 203.0.113.7 (Mozilla/5.0).");
    expect(eventSentence(keyRotated)).toBe("Key “Owner key” rotated the API key “CI deploy” from 198.51.100.2.");
    expect(eventSentence(recovered)).toBe("The recovery command recovered the organization “Acme”.");
  });
  it("names every action of the contract in words, never as its code", () => {
    for (const action of AUDIT_ACTIONS) {
      const [type] = action.split(".");
      const s = eventSentence({ ...recovered, action, target: { type, id: "x_1", name: "N" } });
      expect(s, action).not.toContain(action);
      expect(s, action).toContain("“N”");
    }
  });
  it("offers exactly the contract's actions in the filter", () => {
    const spec = JSON.parse(openapiText) as { components: { schemas: { AuditEvent: { properties: { action: { enum: string[] } } } } } };
    expect([...AUDIT_ACTIONS].sort()).toEqual([...spec.components.schemas.AuditEvent.properties.action.enum].sort());
  });
  it("reads a webhook endpoint's changes", () => {
    const e = {
      ...recovered,
      actor: { type: "key", id: "key_1", name: "Owner" },
      action: "webhook.updated",
      target: { type: "webhook", id: "wh_1", name: "https://hooks.example.com/b" },
      changes: { url: { from: "https://hooks.example.com/a", to: "https://hooks.example.com/b" }, events: { from: ["key.created"], to: ["key.created", "key.expired"] } },
    };
    expect(eventSentence(e)).toBe("Key “Owner” edited the webhook endpoint “https://hooks.example.com/b”.");
    expect(changesOf(e, (x) => x).map((c) => `${c.label}: ${c.from} → ${c.to}`)).toEqual([
      "URL: https://hooks.example.com/a → https://hooks.example.com/b",
      "Events: key.created → key.created, key.expired",
    ]);
    expect(eventSentence({ ...e, action: "webhook.secret_rotated", changes: undefined })).toBe(
      "Key “Owner” rotated the signing secret of the webhook endpoint “https://hooks.example.com/b”.",
    );
    expect(actionLabel("webhook.secret_rotated")).toBe("Webhook endpoint signing secret rotated");
  });
  it("still reads for an action it does not know", () => {
    expect(eventSentence({ ...recovered, action: "webhook.paused", target: { type: "webhook", id: "wh_1", name: "W" } })).toBe(
      "The recovery command did webhook.paused on the webhook endpoint “W”.",
    );
    expect(eventSentence({ ...recovered, action: "widget.created", target: { type: "widget", id: "w_1", name: "W" } })).toBe(
      "The recovery command created the widget “W”.",
    );
    expect(eventSentence({ ...recovered, action: "key.frozen", target: { type: "key", id: "key_1", name: "K" } })).toBe(
      "The recovery command did key.frozen on the API key “K”.",
    );
  });
  it("names the first start", () => {
    expect(eventSentence({ ...recovered, actor: { type: "system", name: "bootstrap" }, action: "organization.created" })).toBe(
      "The first start (bootstrap) created the organization “Acme”.",
    );
  });
  it.each([
    ["self_report", "A leak self-report revoked the API key “K”."],
    ["github", "A leak report from GitHub secret scanning revoked the API key “K”."],
  ])("names a leak report (%s) that revoked a key", (name, want) => {
    const e = { ...recovered, actor: { type: "system", name }, action: "key.revoked", target: { type: "key", id: "key_1", name: "K" } };
    expect(eventSentence(e)).toBe(want);
  });
});

describe("changesOf", () => {
  const fmt = (iso: string) => `<${iso}>`;
  it("gives each field from → to in words", () => {
    expect(changesOf(keyUpdated, fmt)).toEqual([
      { field: "name", label: "Name", from: "CI deploy", to: "CI deploy (web)" },
      { field: "expires_at", label: "Expiry", from: "never", to: "<2026-12-29T10:00:00Z>" },
    ]);
    expect(changesOf(keyRotated, fmt)).toEqual([{ field: "grace_seconds", label: "Grace period", from: "none", to: "1 hour" }]);
    expect(changesOf(recovered, fmt)).toEqual([]);
  });
  it("writes permissions as their names and scopes", () => {
    const e = {
      ...keyUpdated,
      changes: {
        permissions: {
          from: [{ permission: "secrets:read", scope: null }],
          to: [{ permission: "secrets:read", scope: { level: "environment", id: "env_1", path: "billing / web / production" } }],
        },
        allow_all: { from: true, to: false },
      },
    };
    expect(changesOf(e, fmt)).toEqual([
      { field: "permissions", label: "Permissions", from: "secrets:read", to: "secrets:read on environment billing / web / production" },
      { field: "allow_all", label: "Allow all", from: "yes", to: "no" },
    ]);
  });
  it("writes a revocation and the allowed networks in words", () => {
    const e = {
      ...keyUpdated,
      changes: {
        revoked: { from: null, to: { reason: "leaked", reporter: "github", url: "https://github.com/o/r" } },
        allowed_cidrs: { from: [], to: ["203.0.113.0/24", "2001:db8::/32"] },
      },
    };
    expect(changesOf(e, fmt)).toEqual([
      { field: "revoked", label: "Revocation", from: "none", to: "reported as leaked by GitHub secret scanning (found at https://github.com/o/r)" },
      { field: "allowed_cidrs", label: "Allowed networks", from: "anywhere", to: "203.0.113.0/24, 2001:db8::/32" },
    ]);
  });
  it("writes the allowed networks as the server records them: null (anywhere) → CIDRs → null", () => {
    // What the server sends for an edit of allowed_cidrs alone (the
    // key.updated of shared/wiring's TestEditableFieldsAudited).
    const set = { ...keyUpdated, changes: { allowed_cidrs: { from: null, to: ["10.0.0.0/8", "2001:db8::/32"] } } };
    const cleared = { ...keyUpdated, changes: { allowed_cidrs: { from: ["10.0.0.0/8"], to: null } } };
    expect(changesOf(set, fmt)).toEqual([
      { field: "allowed_cidrs", label: "Allowed networks", from: "anywhere", to: "10.0.0.0/8, 2001:db8::/32" },
    ]);
    expect(changesOf(cleared, fmt)).toEqual([{ field: "allowed_cidrs", label: "Allowed networks", from: "10.0.0.0/8", to: "anywhere" }]);
  });
});

describe("the activity page's address", () => {
  it("keeps the filters under the API's names, in a fixed order, empty ones left out", () => {
    const s = { key_id: "key_01", action: "key.updated", since: "2026-11-01T00:00:00Z", until: "" };
    const q = auditStateQuery(s);
    expect(q).toBe("?action=key.updated&key_id=key_01&since=2026-11-01T00%3A00%3A00Z");
    expect(parseAuditState(q)).toEqual(s);
    expect(auditFilter(s)).toEqual({ key_id: "key_01", action: "key.updated", since: "2026-11-01T00:00:00Z" });
    expect(auditStateQuery(parseAuditState(""))).toBe("");
  });
  it("turns a local date-time field into a UTC instant and back", () => {
    const iso = localToIso("2026-11-29T10:30");
    expect(iso).toMatch(/^2026-11-2\dT\d\d:30:00Z$/);
    expect(isoToLocal(iso!)).toBe("2026-11-29T10:30");
    expect(localToIso("")).toBeNull();
    expect(localToIso("nonsense")).toBeNull();
  });
  it("reports every field error at once", () => {
    expect(validateAuditState({ key_id: "", action: "", since: "x", until: "y" })).toEqual({
      since: "Enter a date and time, or leave it empty.",
      until: "Enter a date and time, or leave it empty.",
    });
    expect(validateAuditState({ key_id: "", action: "", since: "2026-11-29T00:00:00Z", until: "2026-11-28T00:00:00Z" })).toEqual({
      until: "“Until” must be after “Since”.",
    });
    expect(validateAuditState({ key_id: "", action: "", since: "2026-11-28T00:00:00Z", until: "2026-11-29T00:00:00Z" })).toEqual({});
  });
  it("labels actions for the filter", () => {
    expect(actionLabel("key.previous_token_revoked")).toBe("API key grace ended");
    expect(actionLabel("team.renamed")).toBe("Team renamed");
    expect(actionLabel("key.updated")).toBe("API key edited");
  });
  it("names the export files by format and day", () => {
    const now = new Date("2026-11-29T23:00:00Z");
    expect(exportFileName("ndjson", now)).toBe("audit-events-2026-11-29.ndjson");
    expect(exportFileName("csv", now)).toBe("audit-events-2026-11-29.csv");
  });
});
