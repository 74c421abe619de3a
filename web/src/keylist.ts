// Pure rules of the key list: the one-line "what it can do" of a key, the
// list's filters, and the list's state as kept in the URL query (search,
// filters and the page cursors), so reload and a shared link keep them.
// No DOM here, so Vitest covers them directly.
import { catalogOrder, permissionLabel } from "./rules";
import type { ApiKey, Catalog, Grant } from "./types";

const DAY_MS = 86400000;

/** Where a grant applies, in words: the node's path, or the whole organization. */
export function scopeWhere(g: Grant): string {
  if (!g.scope) return "whole organization";
  return g.scope.path || g.scope.id;
}

/** The key's grants as permission → distinct places, in catalog order. */
function grouped(catalog: Catalog | null, grants: Grant[]): [string, string[]][] {
  const by = new Map<string, string[]>();
  for (const g of grants) {
    const where = scopeWhere(g);
    const list = by.get(g.permission) ?? [];
    if (!list.includes(where)) list.push(where);
    by.set(g.permission, list);
  }
  const order = catalog ? catalogOrder(catalog) : [];
  const rank = (p: string) => {
    const i = order.indexOf(p);
    return i < 0 ? order.length : i;
  };
  return [...by.entries()].sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

const whereText = (places: string[]) => (places.length === 1 ? places[0] : `${places.length} scopes`);

/**
 * What a key can do, in one line for the list:
 *   - allow-all: "Full access";
 *   - one permission: "Read secrets · billing / web / production" ("· 3 scopes" when several);
 *   - several permissions on the same places: "Read secrets, Write secrets · billing / web / production",
 *     beyond two "Read secrets, Write secrets +2 more · …";
 *   - several permissions on different places: the first one and a count, "Read secrets · 3 scopes, +2 more".
 * Labels come from the server's catalog; without it the permission names are shown.
 */
export function capabilityLine(key: Pick<ApiKey, "allow_all" | "permissions">, catalog: Catalog | null): string {
  if (key.allow_all) return "Full access";
  const perms = grouped(catalog, key.permissions ?? []);
  if (perms.length === 0) return "No permissions";
  const label = (p: string) => (catalog ? permissionLabel(catalog, p) : p);
  const first = perms[0][1].join("\n");
  const sameWhere = perms.every(([, places]) => places.join("\n") === first);
  if (sameWhere) {
    const shown = perms.slice(0, 2).map(([p]) => label(p));
    const rest = perms.length - shown.length;
    return `${shown.join(", ")}${rest > 0 ? ` +${rest} more` : ""} · ${whereText(perms[0][1])}`;
  }
  const [p0, places0] = perms[0];
  return `${label(p0)} · ${whereText(places0)}, +${perms.length - 1} more`;
}

/** Every grant of the key, one per line, for the line's tooltip and screen readers. */
export function capabilityDetail(key: Pick<ApiKey, "allow_all" | "permissions">, catalog: Catalog | null): string {
  if (key.allow_all) return "Full access to everything in the organization, including permissions added later.";
  const perms = grouped(catalog, key.permissions ?? []);
  if (perms.length === 0) return "No permissions.";
  const label = (p: string) => (catalog ? permissionLabel(catalog, p) : p);
  return perms.map(([p, places]) => `${label(p)}: ${places.join("; ")}`).join("\n");
}

/** The list's filters, as they appear in the URL. */
export const FILTERS = [
  { id: "active", label: "Active" },
  { id: "expiring-soon", label: "Expiring soon" },
  { id: "expired", label: "Expired" },
  { id: "never-expires", label: "Never expires" },
  { id: "allow-all", label: "Allow all" },
  { id: "unused-30d", label: "Unused for 30 days" },
  { id: "revoked", label: "Revoked" },
] as const;

export type FilterId = (typeof FILTERS)[number]["id"];

/** The status filters: a key matches any chosen one. The others must all match. */
export const STATUS_FILTERS: readonly FilterId[] = ["active", "expiring-soon", "expired", "revoked"];

const FILTER_IDS = new Set<string>(FILTERS.map((f) => f.id));

/**
 * Whether a key passes one filter. Statuses are the server's own (`status`
 * of the key); "unused for 30 days" means its last use, or its creation when
 * never used, is at least 30 days old.
 */
export function matchesFilter(key: ApiKey, f: FilterId, now: number): boolean {
  switch (f) {
    case "active":
      return key.status === "active";
    case "expiring-soon":
      return key.status === "expiring_soon";
    case "expired":
      return key.status === "expired";
    case "revoked":
      return key.status === "revoked";
    case "never-expires":
      return key.expires_at === null;
    case "allow-all":
      return key.allow_all;
    case "unused-30d": {
      const since = new Date(key.last_used_at ?? key.created_at).getTime();
      return Number.isNaN(since) || now - since >= 30 * DAY_MS;
    }
  }
}

/** The list's state, as kept in the URL query. */
export interface ListState {
  /** Search by name (case-insensitive substring); "" for none. */
  q: string;
  /** Chosen filters, in FILTERS order. */
  filters: FilterId[];
  /** Cursors of the pages opened so far, oldest first; the last one loads the page shown ([] for the first page). */
  cursors: string[];
}

export const emptyListState: ListState = { q: "", filters: [], cursors: [] };

/** Whether the state narrows the list (then every page is loaded and filtered here). */
export function isNarrowed(s: ListState): boolean {
  return s.q.trim() !== "" || s.filters.length > 0;
}

/** Reads the state from a query string ("?q=ci&filter=expired,allow-all&cursor=…"); unknown filters are dropped. */
export function parseListState(search: string): ListState {
  const p = new URLSearchParams(search);
  const chosen = new Set(
    p
      .getAll("filter")
      .flatMap((v) => v.split(","))
      .map((v) => v.trim())
      .filter((v) => FILTER_IDS.has(v)),
  );
  return {
    q: p.get("q") ?? "",
    filters: FILTERS.map((f) => f.id).filter((id) => chosen.has(id)),
    cursors: p.getAll("cursor").filter((c) => c !== ""),
  };
}

/** The query string of a state ("" when it is the plain first page); cursors are dropped while narrowed. */
export function listStateQuery(s: ListState): string {
  const p = new URLSearchParams();
  if (s.q.trim() !== "") p.set("q", s.q);
  if (s.filters.length > 0) p.set("filter", FILTERS.map((f) => f.id).filter((id) => s.filters.includes(id)).join(","));
  if (!isNarrowed(s)) for (const c of s.cursors) p.append("cursor", c);
  const q = p.toString();
  return q ? `?${q}` : "";
}

/** The keys that pass the search and every filter (status filters: any of them). */
export function applyListState(keys: ApiKey[], s: ListState, now: number): ApiKey[] {
  const q = s.q.trim().toLowerCase();
  const statuses = s.filters.filter((f) => STATUS_FILTERS.includes(f));
  const others = s.filters.filter((f) => !STATUS_FILTERS.includes(f));
  return keys.filter(
    (k) =>
      (q === "" || k.name.toLowerCase().includes(q)) &&
      (statuses.length === 0 || statuses.some((f) => matchesFilter(k, f, now))) &&
      others.every((f) => matchesFilter(k, f, now)),
  );
}

