import { describe, expect, it } from "vitest";
import openapiText from "../../docs/openapi.json?raw";
import { ApiClient } from "./api";
import { catalog } from "./fixtures/catalog";
import type { Grant, Webhook, WebhookDelivery } from "./types";
import {
  NEW_WEBHOOK,
  WEBHOOK_EVENTS,
  REFRESH_MAX_MS,
  REFRESH_MIN_MS,
  attemptText,
  cannotCall,
  deliveryOutcome,
  nextRefreshIn,
  draftOf,
  eventsSummary,
  fieldOf,
  isRunning,
  toggleEvent,
  validateDraft,
  webhookRequest,
  type WebhookOperation,
} from "./webhooks";

const spec = JSON.parse(openapiText) as {
  components: { schemas: Record<string, { properties: Record<string, { items?: { enum?: string[] }; maxLength?: number }> }> };
};

const hook: Webhook = {
  id: "wh_1",
  url: "https://hooks.example.com/dotenv",
  events: ["key.expired", "key.expiring"],
  description: "Pager",
  created_at: "2026-11-29T10:00:00.000Z",
  updated_at: "2026-11-29T10:00:00.000Z",
};

const fmt = (iso: string) => `<${iso}>`;

describe("the event types", () => {
  it("are the contract's, in its order", () => {
    expect(WEBHOOK_EVENTS.map((e) => e.type)).toEqual(spec.components.schemas.WebhookSpec.properties.events.items?.enum);
  });
  it("and the description's bound is the contract's", () => {
    expect(validateDraft({ ...NEW_WEBHOOK, url: "https://x.test", description: "é".repeat(200) })).toEqual({});
    expect(spec.components.schemas.WebhookSpec.properties.description.maxLength).toBe(200);
    expect(validateDraft({ ...NEW_WEBHOOK, url: "https://x.test", description: "é".repeat(201) }).description).toMatch(/200/);
  });
  it.each([
    [["key.created"], "Key created"],
    [["key.expired", "key.created"], "Key created · Key expired"],
    [WEBHOOK_EVENTS.map((e) => e.type), "All events"],
    [["key.created", "key.future"], "Key created · key.future"],
  ])("%j reads %s", (events, want) => {
    expect(eventsSummary(events)).toBe(want);
  });
  it("toggle keeps the contract order without duplicates", () => {
    let d = { ...NEW_WEBHOOK, events: [] as Webhook["events"] };
    d = toggleEvent(d, "key.expired", true);
    d = toggleEvent(d, "key.created", true);
    d = toggleEvent(d, "key.created", true);
    expect(d.events).toEqual(["key.created", "key.expired"]);
    expect(toggleEvent(d, "key.created", false).events).toEqual(["key.expired"]);
  });
});

describe("the form", () => {
  it("says every missing field at once", () => {
    const errs = validateDraft({ url: "  ", description: "", events: [] });
    expect(Object.keys(errs).sort()).toEqual(["events", "url"]);
  });
  it("sends every field on a create", () => {
    expect(webhookRequest({ url: " https://h.test/x ", description: "", events: ["key.created"] })).toEqual({
      url: "https://h.test/x",
      events: ["key.created"],
      description: "",
    });
  });
  it("sends only what changed on an edit, and nothing when nothing did", () => {
    const d = draftOf(hook);
    expect(webhookRequest(d, hook)).toBeNull();
    expect(webhookRequest({ ...d, events: ["key.expiring", "key.expired"] }, hook)).toBeNull();
    expect(webhookRequest({ ...d, description: "" }, hook)).toEqual({ description: "" });
    expect(webhookRequest(toggleEvent(d, "key.revoked", true), hook)).toEqual({ events: ["key.revoked", "key.expiring", "key.expired"] });
    expect(webhookRequest({ ...d, url: "https://other.test/" }, hook)).toEqual({ url: "https://other.test/" });
  });
  it.each([
    ["url", "url"],
    ["events", "events"],
    ["events[3]", "events"],
    ["description", "description"],
    ["name", null],
  ])("the server's field %s goes next to %s", (field, want) => {
    expect(fieldOf(field)).toBe(want);
  });
});

const delivery = (over: Partial<WebhookDelivery>): WebhookDelivery => ({
  id: "msg_1",
  webhook_id: "wh_1",
  event_type: "key.created",
  state: "pending",
  created_at: "2026-11-29T10:00:00.000Z",
  attempts: [],
  payload: { type: "key.created", timestamp: "2026-11-29T10:00:00Z", data: { organization_id: "org_1", key: { id: "key_1" } } },
  ...over,
});

describe("deliveries in words", () => {
  const a500 = { at: "2026-11-29T10:00:01.000Z", status: 500, duration_ms: 12, error: "answered HTTP 500" };
  const a204 = { at: "2026-11-29T10:00:31.000Z", status: 204, duration_ms: 8 };
  const running = { at: "2026-11-29T10:01:00.000Z", status: 0, duration_ms: 0 };
  it.each<[string, Partial<WebhookDelivery>, string]>([
    ["queued", { next_attempt_at: "T1" }, "Waiting to be sent (<T1>)."],
    ["queued, no time", {}, "Waiting to be sent."],
    ["one failure", { attempts: [a500], next_attempt_at: "T2" }, "The attempt answered HTTP 500 (12 ms); next attempt at <T2>."],
    ["two failures", { attempts: [a500, a500], next_attempt_at: "T2" }, "Attempt 2 answered HTTP 500 (12 ms); next attempt at <T2>."],
    ["running", { attempts: [a500, running], next_attempt_at: "T3" }, "Sending now (attempt 2)."],
    ["delivered", { state: "delivered", attempts: [a500, a204] }, "Delivered (HTTP 204) after 2 attempts."],
    ["failed", { state: "failed", attempts: [a500] }, "Failed after 1 attempt: the last one answered HTTP 500 (12 ms). Retry it when the endpoint works again."],
  ])("%s", (_, over, want) => {
    expect(deliveryOutcome(delivery(over), fmt)).toBe(want);
  });
  it("an attempt without an answer says why, a running one says so", () => {
    expect(attemptText({ at: "", status: 0, duration_ms: 10000, error: "timed out" })).toBe("timed out (10000 ms)");
    expect(attemptText({ at: "", status: 204, duration_ms: 3 })).toBe("answered HTTP 204 (3 ms)");
    expect(attemptText(running)).toBe("running…");
    expect(isRunning(delivery({ attempts: [running] }))).toBe(true);
    expect(isRunning(delivery({ state: "failed", attempts: [a500] }))).toBe(false);
  });
});

describe("reading the deliveries again", () => {
  const now = Date.parse("2026-11-29T10:00:00.000Z");
  const at = (s: number) => new Date(now + s * 1000).toISOString();
  const failed = { at: at(-5), status: 500, duration_ms: 3, error: "answered HTTP 500" };
  it.each<[string, Partial<WebhookDelivery>[], number | null]>([
    ["nothing pending", [{ state: "delivered" }, { state: "failed" }], null],
    ["queued now", [{ next_attempt_at: at(0) }], REFRESH_MIN_MS],
    ["running", [{ attempts: [{ at: at(-1), status: 0, duration_ms: 0 }], next_attempt_at: at(50) }], REFRESH_MIN_MS],
    ["due in 20 s", [{ attempts: [failed], next_attempt_at: at(20) }], 21000],
    ["due in 2 h", [{ attempts: [failed], next_attempt_at: at(7200) }], REFRESH_MAX_MS],
    ["the earliest wins", [{ attempts: [failed], next_attempt_at: at(7200) }, { attempts: [failed], next_attempt_at: at(10) }], 11000],
    ["overdue", [{ attempts: [failed], next_attempt_at: at(-30) }], REFRESH_MIN_MS],
  ])("%s", (_, ds, want) => {
    expect(nextRefreshIn(ds.map((d) => delivery(d)), now)).toBe(want);
  });
});

describe("what the signed-in key may do (the catalog's routes)", () => {
  const org = (permission: string): Grant => ({ permission, scope: null });
  const ops: WebhookOperation[] = ["listWebhooks", "createWebhook", "updateWebhook", "deleteWebhook", "rotateWebhookSecret", "retryWebhookDelivery"];
  it("every operation is a route of the catalog", () => {
    for (const op of ops) expect(catalog.routes.some((r) => r.operation === op)).toBe(true);
  });
  it("allow-all may do everything", () => {
    for (const op of ops) expect(cannotCall(catalog, { allow_all: true, permissions: [] }, op)).toBeNull();
  });
  it("webhooks:* may do everything, webhooks:read only read", () => {
    for (const op of ops) expect(cannotCall(catalog, { allow_all: false, permissions: [org("webhooks:*")] }, op)).toBeNull();
    const reader = { allow_all: false, permissions: [org("webhooks:read")] };
    expect(cannotCall(catalog, reader, "listWebhooks")).toBeNull();
    expect(cannotCall(catalog, reader, "createWebhook")).toBe("Your key does not hold webhooks:create.");
    expect(cannotCall(catalog, reader, "rotateWebhookSecret")).toBe("Your key does not hold webhooks:update.");
    expect(cannotCall(catalog, reader, "retryWebhookDelivery")).toBe("Your key does not hold webhooks:update.");
  });
  it("a key without webhook permissions is told which one it lacks", () => {
    expect(cannotCall(catalog, { allow_all: false, permissions: [org("secrets:read")] }, "listWebhooks")).toBe(
      "Your key does not hold webhooks:read.",
    );
  });
});

describe("the client", () => {
  it("calls the webhook routes with ids escaped", async () => {
    const sent: string[] = [];
    const fetchFn = (async (url: string, init: RequestInit) => {
      sent.push(`${init.method} ${url} ${init.body ?? ""}`.trim());
      const body = url.endsWith("/deliveries?limit=50") || url.endsWith("/v1/webhooks") && init.method === "GET" ? `{"items":[]}` : `{}`;
      return new Response(init.method === "DELETE" ? null : body, { status: init.method === "DELETE" ? 204 : 200 });
    }) as unknown as typeof fetch;
    const c = new ApiClient("https://api.test", "dotenv_x", fetchFn);
    expect(await c.listWebhooks()).toEqual([]);
    await c.createWebhook({ url: "https://h.test", events: ["key.created"], description: "" });
    await c.updateWebhook("wh 1", { description: "x" });
    await c.rotateWebhookSecret("wh_1");
    expect(await c.listWebhookDeliveries("wh_1")).toEqual([]);
    await c.retryWebhookDelivery("wh_1", "msg/1");
    await c.deleteWebhook("wh_1");
    expect(sent).toEqual([
      "GET https://api.test/v1/webhooks",
      `POST https://api.test/v1/webhooks {"url":"https://h.test","events":["key.created"],"description":""}`,
      `PATCH https://api.test/v1/webhooks/wh%201 {"description":"x"}`,
      "POST https://api.test/v1/webhooks/wh_1/rotate-secret",
      "GET https://api.test/v1/webhooks/wh_1/deliveries?limit=50",
      "POST https://api.test/v1/webhooks/wh_1/deliveries/msg%2F1/retry",
      "DELETE https://api.test/v1/webhooks/wh_1",
    ]);
  });
});
