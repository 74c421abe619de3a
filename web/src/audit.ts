// Rules of the audit trail on the dashboard (GET /v1/audit-events): each
// event as a sentence (who, what, when, from where, what changed), the
// organization activity page's filters in the address, and whether the
// signed-in key may read the trail at all (the catalog's audit_log:read).
import { grantAllows } from "./rules";
import type { ApiKey, AuditEvent, AuditFilter, Catalog } from "./types";

/** The permission that reads the audit trail (organization-wide only). */
export const AUDIT_PERMISSION = "audit_log:read";

/** May a key read the audit trail? Allow-all, or a grant covering audit_log:read on the organization (server rule: rules.ts grantAllows). */
export function mayReadAudit(catalog: Catalog, key: Pick<ApiKey, "allow_all" | "permissions">): boolean {
  if (key.allow_all) return true;
  return (key.permissions ?? []).some(
    (g) => g.scope === null && grantAllows(catalog, { permission: g.permission, scope: null }, AUDIT_PERMISSION, null),
  );
}

/** The actions an event may have, for the filter (the server's dotted names). */
export const AUDIT_ACTIONS: string[] = [
  "key.created",
  "key.updated",
  "key.rotated",
  "key.previous_token_revoked",
  "key.deleted",
  "key.revoked",
  "organization.created",
  "organization.renamed",
  "organization.recovered",
  ...["team", "project", "target", "environment"].flatMap((t) => [`${t}.created`, `${t}.renamed`, `${t}.deleted`]),
  "webhook.created",
  "webhook.updated",
  "webhook.secret_rotated",
  "webhook.deleted",
];

const NOUN: Record<string, string> = {
  key: "API key",
  organization: "organization",
  team: "team",
  project: "project",
  target: "target",
  environment: "environment",
  webhook: "webhook endpoint",
};

/** "key.previous_token_revoked" → "ended the grace of the previous token of", etc. */
const VERB: Record<string, string> = {
  created: "created",
  updated: "edited",
  rotated: "rotated",
  previous_token_revoked: "ended the grace period of the previous token of",
  deleted: "deleted",
  renamed: "renamed",
  recovered: "recovered",
  revoked: "revoked",
  secret_rotated: "rotated the signing secret of",
};

/** A readable label of an action for the filter ("key.rotated" → "API key rotated"). */
export function actionLabel(action: string): string {
  const [type, verb] = splitAction(action);
  const v =
    verb === "previous_token_revoked" ? "grace ended" : verb === "updated" ? "edited" : verb === "secret_rotated" ? "signing secret rotated" : verb;
  return `${capitalize(NOUN[type] ?? type)} ${v}`;
}

function splitAction(action: string): [string, string] {
  const i = action.indexOf(".");
  return i < 0 ? [action, ""] : [action.slice(0, i), action.slice(i + 1)];
}

const capitalize = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);

/** Who made the change: a key by its name at the time, or the system. */
export function actorText(e: AuditEvent): string {
  if (e.actor.type === "system") {
    if (e.actor.name === "recovery") return "The recovery command";
    if (e.actor.name === "bootstrap") return "The first start (bootstrap)";
    if (e.actor.name === "github") return "A leak report from GitHub secret scanning";
    if (e.actor.name === "self_report") return "A leak self-report";
    return `The system (${e.actor.name})`;
  }
  if (e.actor.type === "key") return `Key “${e.actor.name || e.actor.id || "unknown"}”`;
  return `${capitalize(e.actor.type)} “${e.actor.name || e.actor.id || "unknown"}”`;
}

/** What was done to what: "rotated the API key “CI deploy”". */
export function whatText(e: AuditEvent): string {
  const [, verb] = splitAction(e.action);
  const noun = NOUN[e.target.type] ?? e.target.type;
  const name = e.target.name || e.target.id;
  const v = VERB[verb];
  if (!v) return `did ${e.action} on the ${noun} “${name}”`;
  return `${v} the ${noun} “${name}”`;
}

/** From where: "from 203.0.113.7 (curl/8.5.0)", or "" when the event has no source. */
export function whereText(e: AuditEvent): string {
  const ip = e.source?.ip?.trim();
  const ua = e.source?.user_agent?.trim();
  if (!ip && !ua) return "";
  if (ip && ua) return `from ${ip} (${ua})`;
  return ip ? `from ${ip}` : `with ${ua}`;
}

const FIELD: Record<string, string> = {
  name: "Name",
  expires_at: "Expiry",
  permissions: "Permissions",
  allow_all: "Allow all",
  grace_seconds: "Grace period",
  preset: "Preset",
  revoked: "Revocation",
  allowed_cidrs: "Allowed networks",
  url: "URL",
  events: "Events",
  description: "Description",
};

/** One changed field: its label and its values before and after, in words. */
export interface Change {
  field: string;
  label: string;
  from: string;
  to: string;
}

/** A value of a change in words (never a token: the server records none). */
export function valueText(field: string, v: unknown, formatDate: (iso: string) => string): string {
  if (field === "allowed_cidrs" && (v === null || v === undefined || (Array.isArray(v) && v.length === 0))) return "anywhere";
  if (v === null || v === undefined) return field === "expires_at" ? "never" : "none";
  if (field === "grace_seconds" && typeof v === "number") return durationWords(v);
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "string") return /^\d{4}-\d\d-\d\dT/.test(v) ? formatDate(v) : v;
  if (typeof v === "number") return String(v);
  if (field === "revoked" && typeof v === "object" && "reason" in v) {
    const r = v as { reason: string; reporter?: string; url?: string };
    const by = r.reporter === "github" ? " by GitHub secret scanning" : r.reporter === "self_report" ? " by a self-report" : "";
    return `${r.reason === "leaked" ? "reported as leaked" : r.reason}${by}${r.url ? ` (found at ${r.url})` : ""}`;
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return "none";
    return v.map((x) => grantText(x)).join(", ");
  }
  return JSON.stringify(v);
}

function grantText(x: unknown): string {
  if (x && typeof x === "object" && "permission" in x) {
    const g = x as { permission: string; scope?: { level?: string; id?: string; path?: string } | null };
    if (!g.scope) return g.permission;
    return `${g.permission} on ${g.scope.level ?? ""} ${g.scope.path || g.scope.id || ""}`.replace(/\s+/g, " ").trim();
  }
  return typeof x === "string" ? x : JSON.stringify(x);
}

function durationWords(s: number): string {
  if (s <= 0) return "none";
  const unit = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;
  if (s % 86400 === 0) return unit(s / 86400, "day");
  if (s % 3600 === 0) return unit(s / 3600, "hour");
  if (s % 60 === 0) return unit(s / 60, "minute");
  return unit(s, "second");
}

/** The changes of an event, in the order the server gave them. */
export function changesOf(e: AuditEvent, formatDate: (iso: string) => string): Change[] {
  return Object.entries(e.changes ?? {}).map(([field, c]) => ({
    field,
    label: FIELD[field] ?? field,
    from: valueText(field, c?.from, formatDate),
    to: valueText(field, c?.to, formatDate),
  }));
}

/** The event in one sentence without its time: "Key “Owner” rotated the API key “CI deploy” from 203.0.113.7 (curl)." */
export function eventSentence(e: AuditEvent): string {
  const where = whereText(e);
  return `${actorText(e)} ${whatText(e)}${where ? ` ${where}` : ""}.`;
}

// ------------------------------------------------ the activity page's address

/** The activity page's filters as kept in the address (the API's own names). */
export type AuditState = Required<Record<keyof AuditFilter, string>>;

export const EMPTY_AUDIT_STATE: AuditState = { key_id: "", action: "", since: "", until: "" };

export function parseAuditState(search: string): AuditState {
  const q = new URLSearchParams(search);
  return {
    key_id: q.get("key_id") ?? "",
    action: q.get("action") ?? "",
    since: q.get("since") ?? "",
    until: q.get("until") ?? "",
  };
}

/** The query string of a state ("" when no filter is set); the order is fixed so addresses compare. */
export function auditStateQuery(s: AuditState): string {
  const q = new URLSearchParams();
  for (const k of ["action", "key_id", "since", "until"] as const) if (s[k].trim()) q.set(k, s[k].trim());
  const out = q.toString();
  return out ? `?${out}` : "";
}

/** The API's filter of a state (empty fields left out). */
export function auditFilter(s: AuditState): AuditFilter {
  const f: AuditFilter = {};
  for (const k of ["key_id", "action", "since", "until"] as const) if (s[k].trim()) f[k] = s[k].trim();
  return f;
}

/** A datetime-local field's value ("2026-11-29T10:30", local time) as an RFC 3339 UTC instant, or null. */
export function localToIso(local: string): string | null {
  if (!local) return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.000Z$/, "Z");
}

/** An RFC 3339 instant as a datetime-local value in local time ("" when unreadable). */
export function isoToLocal(iso: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Every field error of the filters at once: unreadable instants, and "since" after "until". */
export function validateAuditState(s: AuditState): Partial<Record<keyof AuditState, string>> {
  const errors: Partial<Record<keyof AuditState, string>> = {};
  const t = (v: string) => (v ? new Date(v).getTime() : NaN);
  if (s.since && Number.isNaN(t(s.since))) errors.since = "Enter a date and time, or leave it empty.";
  if (s.until && Number.isNaN(t(s.until))) errors.until = "Enter a date and time, or leave it empty.";
  if (!errors.since && !errors.until && s.since && s.until && t(s.since) > t(s.until))
    errors.until = "“Until” must be after “Since”.";
  return errors;
}

/** The name of an export's file: audit-events-2026-11-29.ndjson / .csv. */
export function exportFileName(format: "ndjson" | "csv", now: Date): string {
  return `audit-events-${now.toISOString().slice(0, 10)}.${format}`;
}
