import { describe, expect, it } from "vitest";
import { GRACE_CHOICES, MAX_GRACE_SECONDS, graceOffered, graceWords, previousToken, previousTokenNotice, rotateConsequence } from "./grace";
import type { ApiKey } from "./types";

// A key as GET /v1/api-keys/{id} answers it during a grace period (contract of issue 11).
const base: ApiKey = {
  id: "key_1",
  name: "CI deploy",
  organization_id: "org_1",
  allow_all: false,
  permissions: [{ permission: "secrets:read", scope: null }],
  expires_at: null,
  status: "active",
  created_at: "2026-11-01T10:00:00Z",
  updated_at: "2026-11-29T10:00:00Z",
  rotated_at: "2026-11-29T10:00:00Z",
  last_used_at: null,
  created_by: null,
  token_hint: "dotenv_…new1",
  allowed_cidrs: [],
  revocation: null,
  version: 3,
};
const now = Date.parse("2026-11-29T12:00:00Z");

describe("GRACE_CHOICES", () => {
  it("offers none, 1 hour, 1 day and 7 days, the last being the server's maximum", () => {
    expect(GRACE_CHOICES.map((c) => [c.id, c.seconds])).toEqual([
      ["none", 0],
      ["1h", 3600],
      ["1d", 86400],
      ["7d", 604800],
    ]);
    expect(Math.max(...GRACE_CHOICES.map((c) => c.seconds))).toBe(MAX_GRACE_SECONDS);
  });
});

describe("graceWords", () => {
  const cases: [number, string][] = [
    [0, "none"],
    [3600, "1 hour"],
    [7200, "2 hours"],
    [86400, "1 day"],
    [604800, "7 days"],
    [5400, "90 minutes"],
    [61, "61 seconds"],
  ];
  it.each(cases)("%i s is %s", (s, want) => expect(graceWords(s)).toBe(want));
});

describe("previousToken", () => {
  const running: ApiKey = {
    ...base,
    previous_token_expires_at: "2026-11-30T10:00:00Z",
    previous_token_hint: "dotenv_…old9",
    previous_token_last_used_at: "2026-11-29T11:30:00Z",
    previous_token_last_used_ip: "203.0.113.7",
    previous_token_last_used_user_agent: "curl/8.5.0",
  };
  const cases: [string, ApiKey, boolean][] = [
    ["no grace", base, false],
    ["grace running", running, true],
    ["grace over (the answer still carries it)", { ...running, previous_token_expires_at: "2026-11-29T11:59:59Z" }, false],
    ["grace ends this very instant", { ...running, previous_token_expires_at: "2026-11-29T12:00:00Z" }, false],
    ["unreadable instant", { ...running, previous_token_expires_at: "soon" }, false],
  ];
  it.each(cases)("%s", (_, key, want) => expect(previousToken(key, now) !== null).toBe(want));
  it("carries the hint, the instant and the last use", () => {
    expect(previousToken(running, now)).toEqual({
      hint: "dotenv_…old9",
      expiresAt: "2026-11-30T10:00:00Z",
      lastUsedAt: "2026-11-29T11:30:00Z",
      lastUsedIp: "203.0.113.7",
      lastUsedUserAgent: "curl/8.5.0",
    });
  });
  it("answers null last-use fields when the previous token was not used", () => {
    const p = previousToken({ ...base, previous_token_expires_at: "2026-11-30T10:00:00Z", previous_token_hint: "h" }, now);
    expect(p?.lastUsedAt).toBeNull();
    expect(p?.lastUsedIp).toBeNull();
  });
});

describe("the words of a rotation", () => {
  it("says the current token stops at once without a grace, and for how long it works with one", () => {
    expect(rotateConsequence(0)).toContain("stops working at once");
    expect(rotateConsequence(86400)).toContain("keeps working for 1 day");
  });
  it("says until when the previous token works after the rotation", () => {
    expect(previousTokenNotice(null, (s) => s)).toBe(" The previous token has stopped working.");
    expect(previousTokenNotice("2026-11-30T10:00:00Z", (s) => `<${s}>`)).toBe(
      " The previous token keeps working until <2026-11-30T10:00:00Z>.",
    );
  });
});

describe("graceOffered", () => {
  const cases: [string, boolean][] = [
    ["active", true],
    ["expiring_soon", true],
    ["revoked", false],
  ];
  it.each(cases)("%s: %s", (status, want) => expect(graceOffered({ status: status as ApiKey["status"] })).toBe(want));
});
