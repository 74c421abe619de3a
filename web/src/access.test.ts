import { describe, expect, it } from "vitest";
import { navOffers, type Access } from "./access";
import { catalog } from "./fixtures/catalog";
import type { ApiKey } from "./types";
import { cannotCall } from "./webhooks";

const key = (over: Partial<ApiKey>) => ({ allow_all: false, permissions: [], ...over }) as unknown as ApiKey;
const webhooks = (a: Access) => cannotCall(a.catalog, a.key, "listWebhooks") === null;

describe("the navigation", () => {
  it("offers nothing while the key is read", () => {
    expect(navOffers({ state: "loading" }, webhooks)).toBe(false);
  });
  it("offers a page the key may read, and not one it is known to lack", () => {
    expect(navOffers({ state: "known", access: { catalog, key: key({ permissions: [{ permission: "webhooks:read", scope: null }] }) } }, webhooks)).toBe(true);
    expect(navOffers({ state: "known", access: { catalog, key: key({ permissions: [{ permission: "secrets:read", scope: null }] }) } }, webhooks)).toBe(false);
    expect(navOffers({ state: "known", access: { catalog, key: key({ allow_all: true }) } }, webhooks)).toBe(true);
  });
  it("offers the page when the key cannot read itself: the server decides", () => {
    expect(navOffers({ state: "unknown" }, webhooks)).toBe(true);
  });
});
