// Rules of the webhooks pages (/v1/webhooks): the event types an endpoint
// can subscribe to, the form's draft and the request it sends (only what
// changed, on an edit), the server's field errors placed next to their
// field, each delivery's outcome in words, and what the signed-in key may do
// (the permission of each operation comes from the catalog's routes).
import { grantAllows } from "./rules";
import type { ApiKey, Catalog, Webhook, WebhookDelivery, WebhookDeliveryAttempt, WebhookEventType, WebhookRequest } from "./types";

/** One event type an endpoint can receive, for people. */
export interface WebhookEventInfo {
  type: WebhookEventType;
  label: string;
  description: string;
}

/** Every event type, in the order of the server's enum (docs/openapi.json WebhookSpec.events). */
export const WEBHOOK_EVENTS: WebhookEventInfo[] = [
  { type: "key.created", label: "Key created", description: "An API key was created." },
  { type: "key.updated", label: "Key edited", description: "An API key's name, permissions, expiry or networks changed." },
  { type: "key.rotated", label: "Key rotated", description: "An API key got a new token." },
  { type: "key.deleted", label: "Key deleted", description: "An API key was deleted: its token no longer works." },
  { type: "key.revoked", label: "Key revoked", description: "An API key's token was reported as leaked and revoked." },
  { type: "key.expiring", label: "Key expiring", description: "An API key expires in 7 days, then in 1 day (each notice sent once)." },
  { type: "key.expired", label: "Key expired", description: "An API key has expired." },
];

/** The most characters a description may have (WebhookSpec.description maxLength). */
export const MAX_DESCRIPTION = 200;

/** "key.rotated" → "Key rotated" (an unknown type as it is). */
export function eventLabel(type: string): string {
  return WEBHOOK_EVENTS.find((e) => e.type === type)?.label ?? type;
}

/** The subscription in one line: "All events" or the labels in catalog order. */
export function eventsSummary(events: string[]): string {
  if (WEBHOOK_EVENTS.every((e) => events.includes(e.type))) return "All events";
  const known = WEBHOOK_EVENTS.filter((e) => events.includes(e.type)).map((e) => e.label);
  const unknown = events.filter((t) => !WEBHOOK_EVENTS.some((e) => e.type === t));
  return [...known, ...unknown].join(" · ");
}

/** The create and edit form's fields as typed. */
export interface WebhookDraft {
  url: string;
  description: string;
  events: WebhookEventType[];
}

export type WebhookField = keyof WebhookDraft;
export type WebhookErrors = Partial<Record<WebhookField, string>>;

/** A new endpoint's form: the expiry notices ticked, as what most people want first. */
export const NEW_WEBHOOK: WebhookDraft = { url: "", description: "", events: ["key.expiring", "key.expired", "key.revoked"] };

export function draftOf(w: Webhook): WebhookDraft {
  return { url: w.url, description: w.description ?? "", events: [...w.events] };
}

/** Ticks or unticks an event type, keeping the catalog order. */
export function toggleEvent(d: WebhookDraft, type: WebhookEventType, on: boolean): WebhookDraft {
  const set = new Set(d.events);
  if (on) set.add(type);
  else set.delete(type);
  return { ...d, events: WEBHOOK_EVENTS.map((e) => e.type).filter((t) => set.has(t)) };
}

/**
 * The errors the form can tell before sending, every one at once: what the
 * contract requires (an address, at least one event) and the description's
 * published length. Whether an address is acceptable (https, public) is the
 * server's to say: its message lands next to the field (fieldOf).
 */
export function validateDraft(d: WebhookDraft): WebhookErrors {
  const errs: WebhookErrors = {};
  if (!d.url.trim()) errs.url = "Enter the https:// address that receives the events.";
  if (d.events.length === 0) errs.events = "Choose at least one event.";
  if ([...d.description].length > MAX_DESCRIPTION) errs.description = `Use at most ${MAX_DESCRIPTION} characters.`;
  return errs;
}

/**
 * The body to send: every field on a create; on an edit only the fields
 * that differ from the endpoint (null when nothing changed).
 */
export function webhookRequest(d: WebhookDraft, original?: Webhook): WebhookRequest | null {
  const url = d.url.trim();
  if (!original) return { url, events: d.events, description: d.description };
  const body: WebhookRequest = {};
  if (url !== original.url) body.url = url;
  if (d.description !== (original.description ?? "")) body.description = d.description;
  const before = [...original.events].sort().join(",");
  if ([...d.events].sort().join(",") !== before) body.events = d.events;
  return Object.keys(body).length ? body : null;
}

/** The form field a server field error belongs to ("events[2]" → events); null for another. */
export function fieldOf(field: string): WebhookField | null {
  const head = field.replace(/\[\d+\]$/, "");
  return head === "url" || head === "events" || head === "description" ? head : null;
}

/** "answered HTTP 500 in 120 ms", "timed out after 10000 ms", "running…". */
export function attemptText(a: WebhookDeliveryAttempt): string {
  if (a.status === 0 && !a.error) return "running…";
  const what = a.error ? a.error : `answered HTTP ${a.status}`;
  return `${what} (${a.duration_ms} ms)`;
}

/** Whether an attempt of the delivery is in flight (its last attempt has no outcome yet). */
export function isRunning(d: WebhookDelivery): boolean {
  const last = d.attempts[d.attempts.length - 1];
  return d.state === "pending" && !!last && last.status === 0 && !last.error;
}

/** A delivery's outcome in one sentence; dates are formatted by fmt. */
export function deliveryOutcome(d: WebhookDelivery, fmt: (iso: string) => string): string {
  const n = d.attempts.length;
  const last = d.attempts[n - 1];
  const tries = n === 1 ? "1 attempt" : `${n} attempts`;
  switch (d.state) {
    case "delivered":
      return `Delivered${last && last.status ? ` (HTTP ${last.status})` : ""} after ${tries}.`;
    case "failed":
      return `Failed after ${tries}${last ? `: the last one ${attemptText(last)}` : ""}. Retry it when the endpoint works again.`;
    case "pending":
      if (isRunning(d)) return `Sending now (attempt ${n}).`;
      if (n === 0) return d.next_attempt_at ? `Waiting to be sent (${fmt(d.next_attempt_at)}).` : "Waiting to be sent.";
      return `${tries === "1 attempt" ? "The attempt" : `Attempt ${n}`} ${attemptText(last)}; next attempt ${d.next_attempt_at ? `at ${fmt(d.next_attempt_at)}` : "soon"}.`;
  }
}

/** The bounds of nextRefreshIn, in milliseconds. */
export const REFRESH_MIN_MS = 3000;
export const REFRESH_MAX_MS = 60000;

/**
 * When to read the deliveries again (ms from now), or null when none is
 * pending: soon after the earliest pending attempt is due (a running one or
 * one already due: REFRESH_MIN_MS), never sooner than REFRESH_MIN_MS and
 * never later than REFRESH_MAX_MS, so a delivery backing off for hours is
 * not polled every few seconds.
 */
export function nextRefreshIn(ds: WebhookDelivery[], now: number): number | null {
  const pending = ds.filter((d) => d.state === "pending");
  if (pending.length === 0) return null;
  let due = Infinity;
  for (const d of pending) {
    const at = d.next_attempt_at ? Date.parse(d.next_attempt_at) : NaN;
    due = Math.min(due, isRunning(d) || Number.isNaN(at) ? now : at);
  }
  return Math.min(REFRESH_MAX_MS, Math.max(REFRESH_MIN_MS, due - now + 1000));
}

/** The operations of the webhooks pages (the catalog's route operation ids). */
export type WebhookOperation =
  | "listWebhooks"
  | "createWebhook"
  | "updateWebhook"
  | "deleteWebhook"
  | "rotateWebhookSecret"
  | "retryWebhookDelivery";

/**
 * Why the key cannot call an operation (null when it can): the permission
 * each route needs is the catalog's (GET /v1/permissions routes), held
 * organization-wide by an allow-all key or a grant covering it (rules.ts
 * grantAllows, the server's rule).
 */
export function cannotCall(catalog: Catalog, key: Pick<ApiKey, "allow_all" | "permissions">, operation: WebhookOperation): string | null {
  const route = catalog.routes.find((r) => r.operation === operation);
  if (!route) return "The service does not offer this.";
  if (!route.permission || key.allow_all) return null;
  const held = (key.permissions ?? []).some(
    (g) => g.scope === null && grantAllows(catalog, { permission: g.permission, scope: null }, route.permission, null),
  );
  return held ? null : `Your key does not hold ${route.permission}.`;
}
