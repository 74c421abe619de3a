// Types of the HTTP contract (docs/http-api.md; docs/openapi.json is the
// machine-readable one). Times are RFC 3339 UTC strings; ids are opaque prefixed strings.

export type ScopeLevel = "team" | "project" | "target" | "environment";
export type NodeLevel = "organization" | ScopeLevel;

/** A grant's scope as answers give it. */
export interface Scope {
  level: ScopeLevel;
  id: string;
  /** Human readable path, e.g. "billing / web / production"; "(deleted)" for a node that no longer exists. */
  path: string;
}

/** A grant as answers give it (scope null: organization-wide). */
export interface Grant {
  permission: string;
  scope: Scope | null;
}

/** A grant's scope as requests give it. */
export interface ScopeSpec {
  level: ScopeLevel;
  id: string;
  /** Ignored by the server (a grant read from an answer may be sent back as it is). */
  path?: string;
}

/** revoked: the key's token was reported as leaked (rotate it to get a new token); an expired key says expired even if it was revoked. */
export type KeyStatus = "active" | "expiring_soon" | "expired" | "revoked";

/** Why a key was revoked: its token was reported as leaked (docs/http-api.md, "Leaked tokens"). Rotating the key clears it. */
export interface Revocation {
  reason: "leaked" | string;
  at: string;
  /** github: GitHub secret scanning; self_report: POST /v1/leaks. */
  reporter: "github" | "self_report" | string;
  /** Where the token was found, as the report said: show it as text. */
  url?: string;
  /** What the token was found on (e.g. content, commit), as the report said. */
  source?: string;
}

export interface ApiKey {
  id: string;
  name: string;
  organization_id: string;
  allow_all: boolean;
  permissions: Grant[];
  expires_at: string | null;
  status: KeyStatus;
  created_at: string;
  updated_at: string;
  rotated_at: string | null;
  last_used_at: string | null;
  /** Where the current token was last used from (absent until known). */
  last_used_ip?: string;
  last_used_user_agent?: string;
  /**
   * While a rotation's grace period runs (now < previous_token_expires_at):
   * the token the rotation replaced, which still works until then; absent otherwise.
   */
  previous_token_expires_at?: string;
  previous_token_hint?: string;
  previous_token_last_used_at?: string;
  previous_token_last_used_ip?: string;
  previous_token_last_used_user_agent?: string;
  // null for a key minted by the edge command line (first start, bootstrap, recover).
  created_by: string | null;
  token_hint: string;
  version: number;
  /** Networks the key may be used from (CIDR), normalized; [] = anywhere. */
  allowed_cidrs: string[];
  /** null unless the key was revoked (status revoked, or expired after it). */
  revocation: Revocation | null;
}

/** Create and rotate answer the key plus its token, shown exactly once. */
export interface ApiKeyWithToken extends ApiKey {
  token: string;
}

export type Expiration = "never" | "30d" | "60d" | "90d" | "1y";

/** A grant as requests give it (scope absent or null: organization-wide). */
export interface GrantInput {
  permission: string;
  scope?: ScopeSpec | null;
}

/** Body of POST /v1/api-keys; PATCH takes any subset with the same rules. */
export interface KeyRequest {
  name?: string;
  permissions?: GrantInput[];
  preset?: string;
  allow_all?: boolean;
  expiration?: Expiration;
  expires_at?: string;
  /** Networks (CIDR or single addresses), at most 32; PATCH replaces the list, [] clears it. */
  allowed_cidrs?: string[];
}

/** A stored item a list skipped because it could not be read: its id and what to do. */
export interface Unreadable {
  id: string;
  message: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
  /** Present only when the page skipped stored items that could not be read. */
  unreadable?: Unreadable[];
}

export interface CatalogPermission {
  name: string;
  action: string;
  label: string;
  description: string;
  /** False when it can only be granted organization-wide. */
  scopable: boolean;
  /** The levels it may be scoped to, root first; a scoped group wildcard covers it only at these levels. */
  scope_levels: ScopeLevel[] | null;
}

/** A group's wildcard grant ("projects:*") and how deep it may be scoped. */
export interface CatalogWildcard {
  name: string;
  scopable: boolean;
  scope_levels: ScopeLevel[];
}

export interface CatalogGroup {
  name: string;
  label: string;
  area: string;
  wildcard: CatalogWildcard;
  permissions: CatalogPermission[];
}

export interface CatalogPreset {
  name: string;
  label: string;
  permissions: string[];
}

export interface CatalogRoute {
  operation: string;
  method: string;
  path: string;
  /** "" for routes any valid token may call. */
  permission: string;
}

export interface Catalog {
  levels: ScopeLevel[];
  groups: CatalogGroup[];
  presets: CatalogPreset[];
  routes: CatalogRoute[];
}

export interface Organization {
  id: string;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface Team {
  id: string;
  name: string;
  organization_id: string;
  created_at: string;
  updated_at: string;
}

export interface Project extends Team {
  team_id: string;
}

export interface Target extends Team {
  project_id: string;
  team_id: string;
}

export interface Environment extends Team {
  target_id: string;
  project_id: string;
  team_id: string;
}

export interface VerifyResponse {
  valid: boolean;
  allowed: boolean;
  code: "ok" | "malformed" | "not_found" | "expired" | "forbidden" | "ip_not_allowed" | string;
  key: { id: string; organization_id: string; name: string; expires_at: string | null } | null;
  missing?: unknown;
  /** Present (true) only for a key's previous token during a rotation's grace period. */
  previous_token?: boolean;
  /** With previous_token: when the previous token stops working. */
  previous_token_expires_at?: string;
}

export interface ExploreRequest {
  token: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface ExploreAccess {
  permission: string;
  node: { level: NodeLevel; id: string; path: string };
  allowed: boolean;
}

/** Per level, the nodes the explored key may not list: counted, never named. */
export interface ExploreHidden {
  level: Exclude<NodeLevel, "organization">;
  count: number;
  /** The permission that lists the level, which the key lacks on these nodes. */
  list_permission: string;
  /** Per permission scopable to the level: on how many hidden nodes it is allowed, and not. */
  permissions: { permission: string; allowed: number; denied: number }[];
}

export interface ExploreResult {
  request: { method: string; url: string; path: string; headers: Record<string, string | string[]>; body: unknown };
  response: { status: number; headers: Record<string, string | string[]>; body: unknown; truncated: boolean };
  duration_ms: number;
  snippets: { curl: string; go: string; javascript: string; python: string };
  access: ExploreAccess[];
  access_hidden: ExploreHidden[];
  /** Whether the explored key may be used from the address the explorer was called from. */
  network: { client_ip: string | null; allowed: boolean };
}

/** RFC 9457 problem details as the API sends them. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: { field: string; code: string; message: string }[];
}

/** Body of POST /v1/api-keys/{id}/rotate: how long the replaced token keeps working (0..604800 s). */
export interface RotateRequest {
  grace_seconds?: number;
}

/** Verifications of a key on one UTC day, allowed and denied (denied_by: per stable reason code). */
export interface UsageDay {
  date: string;
  allowed: number;
  denied: number;
  denied_by: Record<string, number>;
}

/** GET /v1/api-keys/{id}/usage: the last 30 UTC days, oldest first, zero days included. */
export interface KeyUsage {
  key_id: string;
  from: string;
  to: string;
  days: UsageDay[];
  totals: { allowed: number; denied: number; denied_by: Record<string, number> };
  last_used_at?: string;
  last_used_ip?: string;
  last_used_user_agent?: string;
  previous_token_last_used_at?: string;
  previous_token_last_used_ip?: string;
  previous_token_last_used_user_agent?: string;
}

/** Who made a change: a key (its name at the time), or the system (the recovery command, the first start). */
export interface AuditActor {
  type: "key" | "system" | string;
  id?: string;
  /** The key's name at the time, or bootstrap / recovery (type system). */
  name?: string;
}

/** What a change was made to. */
export interface AuditTarget {
  type: "key" | "organization" | "team" | "project" | "target" | "environment" | string;
  id: string;
  /** Its name after the change (before, for a deletion). */
  name?: string;
}

/** Where a change's request came from; members absent when unknown. */
export interface AuditSource {
  ip?: string;
  user_agent?: string;
  request_id?: string;
}

/** A field's value before and after (null when absent). */
export interface AuditChange {
  from: unknown;
  to: unknown;
}

/** One recorded change of GET /v1/audit-events (newest first). */
export interface AuditEvent {
  id: string;
  at: string;
  organization_id: string;
  /** Dotted, e.g. "key.updated", "team.renamed". */
  action: string;
  actor: AuditActor;
  target: AuditTarget;
  source?: AuditSource;
  /** Per field, its value before and after (never a token or digest). */
  changes?: Record<string, AuditChange>;
}

/** A page of GET /v1/audit-events, newest first. */
export interface AuditEventPage {
  items: AuditEvent[];
  next_cursor: string | null;
}

/** The selection of GET /v1/audit-events (and of its NDJSON / CSV export). */
export interface AuditFilter {
  key_id?: string;
  action?: string;
  /** RFC 3339 instants. */
  since?: string;
  until?: string;
}

/** What an organization webhook can be sent (the server's event types; webhooks.ts lists them in order). */
export type WebhookEventType =
  | "key.created"
  | "key.updated"
  | "key.rotated"
  | "key.deleted"
  | "key.revoked"
  | "key.expiring"
  | "key.expired";

/** A webhook endpoint (GET /v1/webhooks[/{id}]): its signing secret is never in it. */
export interface Webhook {
  id: string;
  url: string;
  events: WebhookEventType[];
  description: string;
  created_at: string;
  updated_at: string;
  /** While the secret replaced by the last rotation still signs (24 hours). */
  previous_secret_expires_at?: string;
}

/** The answer of createWebhook and rotateWebhookSecret: the signing secret, shown this once. */
export interface WebhookWithSecret extends Webhook {
  secret: string;
}

/** Body of POST /v1/webhooks (url and events required) and PATCH /v1/webhooks/{id} (fields left out keep their value). */
export interface WebhookRequest {
  url?: string;
  events?: WebhookEventType[];
  description?: string;
}

/** GET /v1/webhooks: the organization's endpoints, oldest first (at most 20). */
export interface WebhookList {
  items: Webhook[];
  /** Present only when stored endpoints could not be read (they still count toward the 20). */
  unreadable?: Unreadable[];
}

/** One attempt of a delivery: status 0 when no answer came (or while it runs). */
export interface WebhookDeliveryAttempt {
  at: string;
  status: number;
  duration_ms: number;
  /** What went wrong, never the URL. */
  error?: string;
}

/** A key named in a webhook event: ids, names and times, never a token. */
export interface WebhookKeyRef {
  id: string;
  name?: string;
  expires_at?: string;
}

/** The JSON body sent to the endpoint. */
export interface WebhookEvent {
  type: WebhookEventType;
  timestamp: string;
  data: {
    organization_id: string;
    key: WebhookKeyRef;
    window?: "7d" | "1d";
    reason?: string;
    actor?: WebhookKeyRef;
  };
}

export type WebhookDeliveryState = "pending" | "delivered" | "failed";

/** One event sent to one endpoint, with every attempt; its id is the webhook-id header. */
export interface WebhookDelivery {
  id: string;
  webhook_id: string;
  event_type: WebhookEventType;
  state: WebhookDeliveryState;
  created_at: string;
  /** Pending deliveries only. */
  next_attempt_at?: string;
  attempts: WebhookDeliveryAttempt[];
  payload: WebhookEvent;
}

/** GET /v1/webhooks/{id}/deliveries: the latest deliveries, newest first. */
export interface WebhookDeliveryList {
  items: WebhookDelivery[];
  /** Present only when stored deliveries could not be read. */
  unreadable?: Unreadable[];
}
