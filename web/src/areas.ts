// The create / edit form's one-choice-per-area model: areas of catalog
// groups, "No access / Read / Read & write / Custom", one "where" for the
// whole key, and what the signed-in key cannot grant (with the reason).
// The form state stays rules.ts's FormState (permission → scopes), so the
// request body, the summary and the server's field errors are unchanged.
// The mapping is documented in web/README.md ("The create form's areas").
import type { Directory } from "./directory";
import {
  ORG_WIDE,
  article,
  computeExpiry,
  formatUtc,
  grantCovers,
  isCatalogWildcard,
  permissionLabel,
  scopeLevelsFor,
  type ExpiryChoice,
  type FormState,
  type PlacedGrant,
  type ScopeChoice,
} from "./rules";
import type { ApiKey, Catalog, CatalogGroup, CatalogPermission, ScopeLevel } from "./types";

/** One area of the form: a label and the catalog groups it holds. */
export interface FormArea {
  id: string;
  label: string;
  groups: CatalogGroup[];
}

/**
 * The form's areas, by the catalog's `area` of each group. Catalog areas not
 * listed here (added later by the server) become areas of their own.
 */
export const FORM_AREAS: { id: string; label: string; catalogAreas: string[] }[] = [
  { id: "secrets", label: "Secrets", catalogAreas: ["Secrets"] },
  {
    id: "projects",
    label: "Projects, targets, environments, teams and members",
    catalogAreas: ["Projects", "Targets", "Environments", "Teams", "Members"],
  },
  { id: "organization", label: "Organization", catalogAreas: ["Organizations"] },
  { id: "api_tokens", label: "API tokens", catalogAreas: ["API Tokens"] },
  { id: "billing", label: "Billing", catalogAreas: ["Billing"] },
];

/** Catalog actions that only read ("Read"). */
export const READ_ACTIONS = ["read", "history"];
/** Catalog actions that destroy data; "Read & write" leaves them to Custom. */
export const DESTRUCTIVE_ACTIONS = ["delete", "purge"];

export function formAreas(catalog: Catalog): FormArea[] {
  const out: FormArea[] = FORM_AREAS.map((a) => ({
    id: a.id,
    label: a.label,
    groups: catalog.groups.filter((g) => a.catalogAreas.includes(g.area)),
  }));
  for (const g of catalog.groups) {
    if (FORM_AREAS.some((a) => a.catalogAreas.includes(g.area))) continue;
    const id = g.area.toLowerCase().replace(/[^a-z0-9]+/g, "_");
    let area = out.find((a) => a.id === id);
    if (!area) out.push((area = { id, label: g.area, groups: [] }));
    area.groups.push(g);
  }
  return out.filter((a) => a.groups.length > 0);
}

export type AreaChoice = "none" | "read" | "write" | "custom";

/** The key's "where": [] is the whole organization, else the chosen nodes. */
export type Where = ScopeChoice[];

/** The nodes of `where` a permission may be scoped to; [ORG_WIDE] for the whole organization. */
export function scopesFor(catalog: Catalog, permission: string, where: Where): ScopeChoice[] {
  if (where.length === 0) return [{ ...ORG_WIDE }];
  const levels = scopeLevelsFor(catalog, permission);
  return where.filter((s) => s.level !== "" && levels.includes(s.level)).map((s) => ({ ...s }));
}

/** Whether the permission can be given at the chosen "where". */
export function fitsWhere(catalog: Catalog, permission: string, where: Where): boolean {
  return scopesFor(catalog, permission, where).length > 0;
}

const permsOf = (area: FormArea): CatalogPermission[] => area.groups.flatMap((g) => g.permissions);

/**
 * The permissions a choice stands for: "read" the read-like actions,
 * "write" every action but the destructive ones; both only those that can be
 * given at `where` (create permissions, never scopable, only organization-wide).
 */
export function choicePermissions(catalog: Catalog, area: FormArea, choice: "read" | "write", where: Where): string[] {
  return permsOf(area)
    .filter((p) => (choice === "read" ? READ_ACTIONS.includes(p.action) : !DESTRUCTIVE_ACTIONS.includes(p.action)))
    .map((p) => p.name)
    .filter((p) => fitsWhere(catalog, p, where));
}

function areaNames(area: FormArea): Set<string> {
  const s = new Set<string>();
  for (const g of area.groups) {
    s.add(g.wildcard.name);
    for (const p of g.permissions) s.add(p.name);
  }
  return s;
}

const scopeKey = (s: ScopeChoice) => (s.level ? `${s.level}:${s.id}` : "");

function sameScopes(a: ScopeChoice[], b: ScopeChoice[]): boolean {
  const ka = a.map(scopeKey).sort();
  const kb = b.map(scopeKey).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/** The area's choice as the selection shows it (custom when it is neither none, read nor write at `where`). */
export function areaChoiceOf(form: FormState, catalog: Catalog, area: FormArea, where: Where): AreaChoice {
  const names = areaNames(area);
  const selected = Object.keys(form.grants).filter((p) => names.has(p));
  if (selected.length === 0) return "none";
  for (const choice of ["read", "write"] as const) {
    const want = choicePermissions(catalog, area, choice, where);
    if (
      want.length === selected.length &&
      want.every((p) => form.grants[p] && sameScopes(form.grants[p], scopesFor(catalog, p, where)))
    )
      return choice;
  }
  return "custom";
}

/** Sets an area to none, read or write at `where` (custom keeps the selection). */
export function applyAreaChoice(form: FormState, catalog: Catalog, area: FormArea, choice: AreaChoice, where: Where): FormState {
  if (choice === "custom") return form;
  const names = areaNames(area);
  const grants: FormState["grants"] = {};
  for (const [p, s] of Object.entries(form.grants)) if (!names.has(p)) grants[p] = s;
  if (choice !== "none")
    for (const p of choicePermissions(catalog, area, choice, where)) grants[p] = scopesFor(catalog, p, where);
  return { ...form, allowAll: false, preset: null, grants };
}

/** Adds (with the "where" scopes, or organization-wide when it cannot be narrowed) or removes one permission. */
export function setPermission(form: FormState, catalog: Catalog, permission: string, on: boolean, where: Where): FormState {
  const grants = { ...form.grants };
  if (on) {
    const scopes = scopesFor(catalog, permission, where);
    grants[permission] = scopes.length ? scopes : [{ ...ORG_WIDE }];
  } else delete grants[permission];
  return { ...form, allowAll: false, preset: null, grants };
}

/**
 * Moves the whole key to a new "where": areas on read or write are chosen
 * again there; every other permission takes the new scopes when it can be
 * narrowed to them, and keeps its own scopes otherwise.
 */
export function applyWhere(form: FormState, catalog: Catalog, oldWhere: Where, where: Where): FormState {
  let f = form;
  const fixed = new Set<string>();
  for (const area of formAreas(catalog)) {
    const c = areaChoiceOf(form, catalog, area, oldWhere);
    if (c === "read" || c === "write") {
      f = applyAreaChoice(f, catalog, area, c, where);
      for (const n of areaNames(area)) fixed.add(n);
    }
  }
  const grants = { ...f.grants };
  for (const p of Object.keys(grants)) {
    if (fixed.has(p)) continue;
    const scopes = scopesFor(catalog, p, where);
    if (scopes.length) grants[p] = scopes;
  }
  return { ...f, grants };
}

/** The "where" an existing selection uses: the scopes shared by every scoped grant, else the whole organization. */
export function whereOf(form: FormState): Where {
  const scoped = Object.values(form.grants).filter((s) => s.some((x) => x.level));
  if (scoped.length === 0) return [];
  const first = scoped[0].filter((x) => x.level);
  return scoped.every((s) => sameScopes(s.filter((x) => x.level), first)) ? first.map((x) => ({ ...x })) : [];
}

// ------------------------------------------------------ the signed-in key

/** What the signed-in key holds: the limit of what it may give (no escalation). */
export interface Holder {
  allowAll: boolean;
  grants: PlacedGrant[];
  expiresAt: string | null;
}

function lineageOf(dir: Directory | null, id: string): string[] {
  return dir?.byId.get(id)?.lineage ?? [id];
}

export function holderFromKey(key: ApiKey, dir: Directory | null): Holder {
  return {
    allowAll: key.allow_all,
    expiresAt: key.expires_at,
    grants: (key.permissions ?? []).map((g) => ({
      permission: g.permission,
      scope: g.scope ? { level: g.scope.level, id: g.scope.id, lineage: lineageOf(dir, g.scope.id) } : null,
    })),
  };
}

/**
 * Why the signed-in key cannot give `permission` on these scopes, or null
 * when it can (or is not known). The server's rule: rules.ts grantCovers.
 */
export function cannotGrant(
  catalog: Catalog,
  holder: Holder | null,
  permission: string,
  scopes: ScopeChoice[],
  dir: Directory | null,
): string | null {
  if (!holder || holder.allowAll) return null;
  for (const s of scopes) {
    const wanted: PlacedGrant = {
      permission,
      scope: s.level && s.id ? { level: s.level, id: s.id, lineage: lineageOf(dir, s.id) } : null,
    };
    if (s.level && !s.id) continue;
    if (!holder.grants.some((h) => grantCovers(catalog, h, wanted))) {
      const label = permissionLabel(catalog, permission);
      if (isCatalogWildcard(catalog, permission)) return `Your key cannot give “${label}”: it does not hold that wildcard.`;
      const where = wanted.scope ? (dir?.byId.get(wanted.scope.id)?.path ?? s.path ?? wanted.scope.id) : "";
      return wanted.scope
        ? `Your key cannot give “${label}” on ${where}.`
        : `Your key cannot give “${label}” across the whole organization.`;
    }
  }
  return null;
}

/** Why a choice of an area cannot be made (the signed-in key, or nothing fits the "where"); null when it can. */
export function choiceDisabled(
  catalog: Catalog,
  holder: Holder | null,
  area: FormArea,
  choice: "read" | "write",
  where: Where,
  dir: Directory | null,
): string | null {
  const perms = choicePermissions(catalog, area, choice, where);
  if (perms.length === 0) {
    const levels = [...new Set(where.map((w) => w.level))].join(" or ");
    return `${area.label} cannot be narrowed to ${article(levels)} ${levels}: choose the whole organization.`;
  }
  for (const p of perms) {
    const why = cannotGrant(catalog, holder, p, scopesFor(catalog, p, where), dir);
    if (why) return why;
  }
  return null;
}

/** Why a permission cannot be checked in Custom; null when it can. */
export function permissionDisabled(
  catalog: Catalog,
  holder: Holder | null,
  permission: string,
  where: Where,
  dir: Directory | null,
): string | null {
  const scopes = scopesFor(catalog, permission, where);
  return cannotGrant(catalog, holder, permission, scopes.length ? scopes : [{ ...ORG_WIDE }], dir);
}

/** Why an expiry choice is past the signed-in key's own expiry; null when it is not. */
export function expiryDisabled(holder: Holder | null, choice: ExpiryChoice, now: Date, custom = ""): string | null {
  if (!holder?.expiresAt || choice === "keep" || choice === "until") return null;
  const limit = new Date(holder.expiresAt);
  const r = computeExpiry(choice, now, custom);
  if (choice === "custom" && !r.ok) return null;
  if (r.ok && r.at !== null && r.at.getTime() <= limit.getTime()) return null;
  return `Past your key's own expiry (${formatUtc(limit)}).`;
}

/** The levels a "where" node may be, for the tree. */
export const WHERE_LEVELS: ScopeLevel[] = ["team", "project", "target", "environment"];
