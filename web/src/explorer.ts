// Pure helpers of the API Explorer: route placeholders, the access map and
// which calls need a confirmation.
import type { Directory, DirNode } from "./directory";
import type { ApiKey, Catalog, CatalogRoute, ExploreAccess, ExploreHidden, ExploreResult, ScopeLevel } from "./types";
import { grantAllows, type PlacedGrant } from "./rules";

const PLACEHOLDER = /\{([a-zA-Z_]+)\}/g;

/** Placeholder names of a route path, in order: "/v1/projects/{project}/targets/{target}" → ["project", "target"]. */
export function placeholders(path: string): string[] {
  return [...path.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

export function isLevel(name: string): name is ScopeLevel {
  return name === "team" || name === "project" || name === "target" || name === "environment";
}

/** The path with each {name} replaced by values[name] (URL-encoded); unknown ones stay. */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(PLACEHOLDER, (whole, name: string) => (values[name] ? encodeURIComponent(values[name]) : whole));
}

/** Candidates for a placeholder, narrowed by the parents already chosen. */
export function candidates(dir: Directory, name: string, values: Record<string, string>): DirNode[] {
  if (!isLevel(name)) return [];
  return dir.nodes.filter((n) => {
    if (n.level !== name) return false;
    if (name === "target" || name === "environment") {
      if (values.project && n.projectId !== values.project) return false;
    }
    if (name === "environment" && values.target && n.targetId !== values.target) return false;
    return true;
  });
}

/** Picks a valid default for each placeholder (the first candidate), keeping valid choices. */
export function defaultValues(
  dir: Directory,
  path: string,
  previous: Record<string, string>,
  keyId: string,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of placeholders(path)) {
    if (isLevel(name)) {
      const list = candidates(dir, name, values);
      const keep = list.find((n) => n.id === previous[name]);
      values[name] = keep ? keep.id : (list[0]?.id ?? "");
    } else if (name === "id" || name === "key") {
      values[name] = previous[name] || keyId;
    } else {
      values[name] = previous[name] ?? "";
    }
  }
  return values;
}

/** A key's grants with their scopes' lineage (a scope missing from the directory is its own lineage). */
export function placedGrants(key: ApiKey, dir: Directory): PlacedGrant[] {
  return (key.permissions ?? []).map((g) => ({
    permission: g.permission,
    scope: g.scope ? { level: g.scope.level, id: g.scope.id, lineage: dir.byId.get(g.scope.id)?.lineage ?? [g.scope.id] } : null,
  }));
}

/** Does one of a key's grants allow `permission` on `node` (organization when node is null)? */
function covers(key: ApiKey, grants: PlacedGrant[], catalog: Catalog, permission: string, node: DirNode | null): boolean {
  if (key.allow_all) return true;
  return grants.some((g) => grantAllows(catalog, g, permission, node ? node.lineage : null));
}

/**
 * The access map computed in the browser from the key's grants: used to grey
 * routes before the first call; once a call returns, the server's map wins.
 */
export function estimateAccess(key: ApiKey, catalog: Catalog, dir: Directory): ExploreAccess[] {
  const out: ExploreAccess[] = [];
  const grants = placedGrants(key, dir);
  for (const g of catalog.groups) {
    for (const p of g.permissions) {
      out.push({
        permission: p.name,
        node: { level: "organization", id: key.organization_id, path: "Organization" },
        allowed: covers(key, grants, catalog, p.name, null),
      });
      for (const n of dir.nodes) {
        if (!p.scope_levels?.includes(n.level)) continue;
        out.push({ permission: p.name, node: { level: n.level, id: n.id, path: n.path }, allowed: covers(key, grants, catalog, p.name, n) });
      }
    }
  }
  return out;
}

const PLURAL: Record<ExploreHidden["level"], string> = {
  team: "teams",
  project: "projects",
  target: "targets",
  environment: "environments",
};

/** The row heading of a level the key may not list: "2 teams not shown". */
export function hiddenLabel(h: ExploreHidden): string {
  return `${h.count} ${h.count === 1 ? h.level : PLURAL[h.level]} not shown`;
}

/** Why a level's nodes are not shown. */
export function hiddenReason(h: ExploreHidden): string {
  return `This key cannot list them (it lacks ${h.list_permission} there), so their names stay hidden.`;
}

export interface HiddenCell {
  /** yes: allowed on every hidden node; no: on none; some: on part of them. */
  state: "yes" | "no" | "some";
  /** What a screen reader says, and the visible text for "some". */
  label: string;
}

/** The cell of a hidden level's row for one permission, or null when the permission does not apply there. */
export function hiddenCell(h: ExploreHidden, permission: string): HiddenCell | null {
  const p = h.permissions.find((x) => x.permission === permission);
  if (!p) return null;
  const total = p.allowed + p.denied;
  if (p.allowed === 0) return { state: "no", label: `not allowed on any of them` };
  if (p.denied === 0) return { state: "yes", label: `allowed on all ${total}` };
  return { state: "some", label: `allowed on ${p.allowed} of ${total}` };
}

export interface RouteAccess {
  allowed: boolean;
  /** The permission the key lacks, when it cannot call the route. */
  missing?: string;
}

/**
 * Whether the key may call a route with these placeholder values: the access
 * entry for the deepest chosen node, else the organization node, else any node.
 */
export function routeAccess(route: CatalogRoute, access: ExploreAccess[], values: Record<string, string>): RouteAccess {
  if (!route.permission) return { allowed: true };
  const entries = access.filter((a) => a.permission === route.permission);
  if (entries.length === 0) return { allowed: false, missing: route.permission };
  const chosen = placeholders(route.path)
    .filter(isLevel)
    .map((n) => values[n])
    .filter(Boolean);
  const deepest = chosen[chosen.length - 1];
  if (deepest) {
    const hit = entries.find((a) => a.node.id === deepest);
    if (hit) return hit.allowed ? { allowed: true } : { allowed: false, missing: route.permission };
  }
  const org = entries.find((a) => a.node.level === "organization");
  if (!deepest && org) {
    // A listing is filtered to what the key may see: any allowed node makes it callable.
    return org.allowed || entries.some((a) => a.allowed)
      ? { allowed: true }
      : { allowed: false, missing: route.permission };
  }
  return entries.some((a) => a.allowed) ? { allowed: true } : { allowed: false, missing: route.permission };
}

/** DELETE, rotations and purges ask for a confirmation before they are sent. */
export function isDestructive(method: string, path: string, permission = ""): boolean {
  const m = method.toUpperCase();
  if (m === "DELETE") return true;
  const p = path.toLowerCase();
  if (/\/(rotate|purge)(\/|\?|$)/.test(p) || /:(rotate|purge|delete)$/.test(permission)) return true;
  return false;
}

/** "Name: value" lines → headers object; blank lines are skipped. */
export function parseHeaders(text: string): { headers: Record<string, string>; error?: string } {
  const headers: Record<string, string> = {};
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    const c = line.indexOf(":");
    if (c <= 0) return { headers, error: `Line ${i + 1} is not "Name: value".` };
    const name = line.slice(0, c).trim();
    if (!/^[A-Za-z0-9-]+$/.test(name)) return { headers, error: `Line ${i + 1}: "${name}" is not a header name.` };
    if (name.toLowerCase() === "authorization")
      return { headers, error: "The token field sets Authorization; do not add it here." };
    headers[name] = line.slice(c + 1).trim();
  }
  return { headers };
}

/** The request body text → JSON (null when empty). */
export function parseBody(text: string): { body: unknown; error?: string } {
  if (!text.trim()) return { body: null };
  try {
    return { body: JSON.parse(text) };
  } catch (e) {
    return { body: null, error: `The body is not valid JSON: ${(e as Error).message}` };
  }
}

/** Pretty JSON for display (strings that hold JSON are parsed first). */
export function pretty(body: unknown): string {
  if (body === null || body === undefined) return "";
  if (typeof body === "string") {
    try {
      return JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      return body;
    }
  }
  return JSON.stringify(body, null, 2);
}

/**
 * The explorer answer's network check in words: the address the explorer was
 * called from and whether the explored key may be used from there (the
 * server's answer; allowedCidrs only names the networks).
 */
export function networkText(network: ExploreResult["network"], allowedCidrs: string[]): { text: string; allowed: boolean } {
  const from = network.client_ip ? `Called from ${network.client_ip}` : "The address of this call is unknown";
  if (allowedCidrs.length === 0) return { text: `${from}: the key may be used from any network.`, allowed: network.allowed };
  const list = allowedCidrs.join(", ");
  return network.allowed
    ? { text: `${from}: inside the key's allowed networks (${list}).`, allowed: true }
    : {
        text: `${from}: outside the key's allowed networks (${list}); used from here, the key is refused with ip_not_allowed.`,
        allowed: false,
      };
}
