// Pure rules of the create / edit form: which scopes a permission allows,
// group toggles, presets, expiry, validation, the summary and the request
// body. No DOM here, so Vitest covers them directly.
import type { Directory } from "./directory";
import { article } from "./grammar";
import { isNetworksField, networksForRequest, networksSummary, networksText } from "./networks";
import type {
  ApiKey,
  Catalog,
  CatalogGroup,
  CatalogPermission,
  Expiration,
  GrantInput,
  KeyRequest,
  ScopeLevel,
} from "./types";

export const LEVEL_ORDER: ScopeLevel[] = ["team", "project", "target", "environment"];

export const LEVEL_LABEL: Record<ScopeLevel, string> = {
  team: "Team",
  project: "Project",
  target: "Target",
  environment: "Environment",
};

/** The dashboard's areas, in display order. */
export const AREAS = [
  "Secrets",
  "Projects",
  "Targets",
  "Environments",
  "Teams",
  "Organizations",
  "Members",
  "API Tokens",
  "Billing",
] as const;

/** One scope of one selected permission. level "" means organization-wide. */
export interface ScopeChoice {
  level: ScopeLevel | "";
  id: string;
  /** Readable path when known (from the key being edited). */
  path?: string;
}

/** "until": the signed-in key's own expiry (FormState.untilExpiry), sent as expires_at. */
export type ExpiryChoice = Expiration | "custom" | "keep" | "until";

export interface FormState {
  name: string;
  allowAll: boolean;
  /** Preset applied with its button; sent as `preset` while the selection still matches it. */
  preset: string | null;
  /** Selected permission (or `group:*`) → its scopes (at least one entry). */
  grants: Record<string, ScopeChoice[]>;
  expiry: ExpiryChoice;
  /** Value of the custom date-time input, "YYYY-MM-DDTHH:MM" in local time. */
  customExpiry: string;
  /** The signed-in key's expiry (RFC 3339) when expiry is "until". */
  untilExpiry?: string;
  /** The "Allowed networks" field's text, one CIDR per line (networks.ts); absent = empty. */
  networks?: string;
}

export const ORG_WIDE: ScopeChoice = { level: "", id: "" };

export function newForm(): FormState {
  return { name: "", allowAll: false, preset: null, grants: {}, expiry: "30d", customExpiry: "" };
}

export function wildcardOf(group: string): string {
  return `${group}:*`;
}

export function groupOf(permission: string): string {
  const i = permission.indexOf(":");
  return i < 0 ? permission : permission.slice(0, i);
}

export function isWildcard(permission: string): boolean {
  return permission.endsWith(":*");
}

export function findGroup(catalog: Catalog, name: string): CatalogGroup | undefined {
  return catalog.groups.find((g) => g.name === name);
}

export function findPermission(catalog: Catalog, name: string): CatalogPermission | undefined {
  return findGroup(catalog, groupOf(name))?.permissions.find((p) => p.name === name);
}

/** Catalog groups per dashboard area (encryption keys sit under Secrets). */
export function groupsByArea(catalog: Catalog): { area: string; groups: CatalogGroup[] }[] {
  const areas: string[] = [...AREAS];
  for (const g of catalog.groups) if (!areas.includes(g.area)) areas.push(g.area);
  return areas
    .map((area) => ({ area, groups: catalog.groups.filter((g) => g.area === area) }))
    .filter((a) => a.groups.length > 0);
}

/** The group a permission or group wildcard belongs to, from the catalog. */
export function groupFor(catalog: Catalog, permission: string): CatalogGroup | undefined {
  return catalog.groups.find((g) => g.wildcard.name === permission || g.permissions.some((p) => p.name === permission));
}

/** Whether the name is a group wildcard of the catalog ("projects:*"). */
export function isCatalogWildcard(catalog: Catalog, permission: string): boolean {
  return catalog.groups.some((g) => g.wildcard.name === permission);
}

/**
 * The scope levels a permission or group wildcard may be narrowed to, as
 * GET /v1/permissions publishes them (`scope_levels` of the permission or of
 * the group's `wildcard`); none for an unknown name.
 */
export function scopeLevelsFor(catalog: Catalog, permission: string): ScopeLevel[] {
  const g = groupFor(catalog, permission);
  if (!g) return [];
  if (g.wildcard.name === permission) return g.wildcard.scopable ? [...g.wildcard.scope_levels] : [];
  const p = g.permissions.find((x) => x.name === permission);
  return p?.scopable ? [...(p.scope_levels ?? [])] : [];
}

export function isScopable(catalog: Catalog, permission: string): boolean {
  return scopeLevelsFor(catalog, permission).length > 0;
}

/** A grant with its scope's lineage (the ids from the team down to the scope itself). */
export interface PlacedGrant {
  permission: string;
  /** null: organization-wide. */
  scope: { level: ScopeLevel; id: string; lineage: string[] } | null;
}

/** Whether a grant's permission names `permission`: the same name, or the wildcard of its group. */
function names(catalog: Catalog, grant: string, permission: string): boolean {
  return grant === permission || groupFor(catalog, permission)?.wildcard.name === grant;
}

/**
 * Whether a grant scoped to `level` ("" organization-wide) applies to
 * `permission`: a scoped group wildcard covers only the permissions that may
 * themselves be scoped to its level (projects:* on a team never allows
 * projects:create).
 */
export function scopeApplies(catalog: Catalog, level: ScopeLevel | "", permission: string): boolean {
  return level === "" || !groupFor(catalog, permission) || scopeLevelsFor(catalog, permission).includes(level);
}

/**
 * Does the grant allow `permission` on the node with this lineage (null: the
 * organization itself)? The server's rule (shared/authz Access.Allows).
 */
export function grantAllows(catalog: Catalog, grant: PlacedGrant, permission: string, lineage: string[] | null): boolean {
  if (!names(catalog, grant.permission, permission)) return false;
  if (!grant.scope) return true;
  return lineage !== null && lineage.includes(grant.scope.id) && scopeApplies(catalog, grant.scope.level, permission);
}

/**
 * May a key holding `holder` give `wanted` (the no-escalation rule)? The
 * holder's scope must include the wanted one; a group wildcard is only
 * covered by the same wildcard (it also grants permissions added later).
 */
export function grantCovers(catalog: Catalog, holder: PlacedGrant, wanted: PlacedGrant): boolean {
  if (holder.scope && !(wanted.scope && wanted.scope.lineage.includes(holder.scope.id))) return false;
  if (isCatalogWildcard(catalog, wanted.permission)) return holder.permission === wanted.permission;
  return names(catalog, holder.permission, wanted.permission) && scopeApplies(catalog, holder.scope?.level ?? "", wanted.permission);
}

/** Display label of a permission, e.g. "Read secrets" or "All Secrets permissions". */
export function permissionLabel(catalog: Catalog, permission: string): string {
  if (isWildcard(permission)) {
    const g = findGroup(catalog, groupOf(permission));
    return `All ${g?.label ?? groupOf(permission)} permissions`;
  }
  return findPermission(catalog, permission)?.label ?? permission;
}

/** Every permission name of the catalog, in catalog order, wildcards before their group. */
export function catalogOrder(catalog: Catalog): string[] {
  const out: string[] = [];
  for (const g of catalog.groups) {
    out.push(wildcardOf(g.name));
    for (const p of g.permissions) out.push(p.name);
  }
  return out;
}

function orderedSelection(catalog: Catalog, grants: Record<string, ScopeChoice[]>): string[] {
  const order = catalogOrder(catalog);
  const rank = (p: string) => {
    const i = order.indexOf(p);
    return i < 0 ? order.length : i;
  };
  return Object.keys(grants).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

export type GroupState = "all" | "some" | "none";

export function groupState(form: FormState, group: CatalogGroup): GroupState {
  if (form.allowAll || form.grants[wildcardOf(group.name)]) return "all";
  const n = group.permissions.filter((p) => form.grants[p.name]).length;
  if (n === 0) return "none";
  return n === group.permissions.length ? "all" : "some";
}

export function isSelected(form: FormState, permission: string): boolean {
  return form.allowAll || !!form.grants[permission] || !!form.grants[wildcardOf(groupOf(permission))];
}

/** A form scope as a placed grant (its lineage is only known to hold its own id). */
function placed(permission: string, s: ScopeChoice): PlacedGrant {
  return { permission, scope: s.level ? { level: s.level, id: s.id, lineage: [s.id] } : null };
}

/**
 * Whether the selected group wildcard gives this (unselected) permission on
 * at least one of the wildcard's scopes: a wildcard scoped to a team does not
 * include projects:create.
 */
export function includedByWildcard(form: FormState, catalog: Catalog, permission: string): boolean {
  const g = groupFor(catalog, permission);
  if (!g || g.wildcard.name === permission || form.grants[permission]) return false;
  return (form.grants[g.wildcard.name] ?? []).some((s) =>
    grantCovers(catalog, placed(g.wildcard.name, s), placed(permission, s)),
  );
}

/** Switches a whole group on (each permission, organization-wide) or off. */
export function toggleGroup(form: FormState, catalog: Catalog, groupName: string, on: boolean): FormState {
  const g = findGroup(catalog, groupName);
  if (!g) return form;
  const grants = { ...form.grants };
  const wildcard = grants[wildcardOf(groupName)];
  delete grants[wildcardOf(groupName)];
  for (const p of g.permissions) {
    if (on) {
      if (grants[p.name]) continue;
      const kept = wildcard ? keepAllowed(catalog, p.name, wildcard) : [];
      grants[p.name] = kept.length ? kept : [{ ...ORG_WIDE }];
    } else {
      delete grants[p.name];
    }
  }
  return { ...form, grants };
}

/** The wildcard's scopes that apply to the permission (none: the wildcard did not grant it anywhere). */
function keepAllowed(catalog: Catalog, permission: string, scopes: ScopeChoice[]): ScopeChoice[] {
  return scopes.filter((s) => scopeApplies(catalog, s.level, permission)).map((s) => ({ ...s }));
}

/**
 * Switches one permission. Turning off a permission covered by a group
 * wildcard replaces the wildcard by the group's other permissions.
 */
export function togglePermission(form: FormState, catalog: Catalog, permission: string, on: boolean): FormState {
  const grants = { ...form.grants };
  const wc = wildcardOf(groupOf(permission));
  if (on) {
    if (!grants[permission] && !grants[wc]) grants[permission] = [{ ...ORG_WIDE }];
  } else {
    const wildcard = grants[wc];
    if (wildcard && !isWildcard(permission)) {
      delete grants[wc];
      for (const p of findGroup(catalog, groupOf(permission))?.permissions ?? []) {
        if (p.name === permission || grants[p.name]) continue;
        // A scoped wildcard never granted what cannot be scoped to its level.
        const kept = keepAllowed(catalog, p.name, wildcard);
        if (kept.length) grants[p.name] = kept;
      }
    }
    delete grants[permission];
  }
  return { ...form, grants };
}

export function setScopes(form: FormState, permission: string, scopes: ScopeChoice[]): FormState {
  return { ...form, grants: { ...form.grants, [permission]: scopes.length ? scopes : [{ ...ORG_WIDE }] } };
}

/** Applies a preset: its permissions, organization-wide, replacing the selection. */
export function applyPreset(form: FormState, catalog: Catalog, presetName: string): FormState {
  const preset = catalog.presets.find((p) => p.name === presetName);
  if (!preset) return form;
  const grants: Record<string, ScopeChoice[]> = {};
  for (const p of preset.permissions) grants[p] = [{ ...ORG_WIDE }];
  return { ...form, allowAll: false, preset: preset.name, grants };
}

/** Keeps only the permissions whose label, name or description matches the search. */
export function filterPermissions(group: CatalogGroup, query: string): CatalogPermission[] {
  const q = query.trim().toLowerCase();
  if (!q) return group.permissions;
  if (group.label.toLowerCase().includes(q) || group.area.toLowerCase().includes(q)) return group.permissions;
  return group.permissions.filter(
    (p) =>
      p.name.toLowerCase().includes(q) ||
      p.label.toLowerCase().includes(q) ||
      (p.description ?? "").toLowerCase().includes(q),
  );
}

export type AccessMode = "allow_all" | "preset" | "permissions";

/** Which of `allow_all`, `preset` or `permissions` the form sends. */
export function accessMode(form: FormState, catalog: Catalog): AccessMode {
  if (form.allowAll) return "allow_all";
  if (form.preset) {
    const preset = catalog.presets.find((p) => p.name === form.preset);
    const keys = Object.keys(form.grants);
    if (
      preset &&
      keys.length === preset.permissions.length &&
      preset.permissions.every((p) => {
        const s = form.grants[p];
        return s && s.length === 1 && s[0].level === "";
      })
    )
      return "preset";
  }
  return "permissions";
}

// ---------------------------------------------------------------- expiry

const DAY_MS = 24 * 60 * 60 * 1000;

export const EXPIRY_OPTIONS: { value: ExpiryChoice; label: string }[] = [
  { value: "30d", label: "30 days" },
  { value: "60d", label: "60 days" },
  { value: "90d", label: "90 days" },
  { value: "1y", label: "1 year" },
  { value: "custom", label: "Custom date" },
  { value: "never", label: "Never" },
];

/** Parses the custom date-time input ("YYYY-MM-DDTHH:MM" or "YYYY-MM-DD", local time). */
export function parseCustomExpiry(value: string): Date | null {
  const v = value.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(v);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? "23", m[5] ?? "59", m[6] ?? "00"].map(Number);
  const date = new Date(y, mo - 1, d, h, mi, s);
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d) return null;
  return date;
}

export type ExpiryResult = { ok: true; at: Date | null } | { ok: false; error: string };

/**
 * When a key made now with this choice expires (null: never). "1y" is one
 * calendar year later (UTC); custom dates must lie in the future.
 */
export function computeExpiry(choice: ExpiryChoice, now: Date, custom = "", until = ""): ExpiryResult {
  switch (choice) {
    case "until": {
      const at = until ? new Date(until) : null;
      if (!at || Number.isNaN(at.getTime())) return { ok: false, error: "Your key's expiry is not known." };
      if (at.getTime() <= now.getTime()) return { ok: false, error: "Your key has already expired." };
      return { ok: true, at };
    }
    case "never":
      return { ok: true, at: null };
    case "30d":
    case "60d":
    case "90d":
      return { ok: true, at: new Date(now.getTime() + parseInt(choice, 10) * DAY_MS) };
    case "1y": {
      const at = new Date(now.getTime());
      at.setUTCFullYear(at.getUTCFullYear() + 1);
      return { ok: true, at };
    }
    case "custom": {
      if (!custom.trim()) return { ok: false, error: "Choose the date the key expires." };
      const at = parseCustomExpiry(custom);
      if (!at) return { ok: false, error: "This is not a valid date." };
      if (at.getTime() <= now.getTime()) return { ok: false, error: "The expiry date must be in the future." };
      return { ok: true, at };
    }
    case "keep":
      return { ok: false, error: "The current expiry is kept." };
  }
}

/** "2026-12-25 14:03 UTC": unambiguous whatever the browser's time zone. */
export function formatUtc(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

// ------------------------------------------------------------ validation

/** "a" or "an" before a word ("an environment"): the dashboard's one helper, in grammar.ts. */
export { article };

export type FormErrors = Record<string, string>;

export const scopeErrorKey = (permission: string, index: number) => `scope:${permission}:${index}`;

/** Client-side checks; the keys are "name", "permissions", "expiry" or scopeErrorKey(). */
export function validateForm(form: FormState, catalog: Catalog, now: Date): FormErrors {
  const errors: FormErrors = {};
  const name = form.name.trim();
  if (!name) errors.name = "Give the key a name you will recognize later.";
  else if ([...name].length > 100) errors.name = "The name can be at most 100 characters.";
  // eslint-disable-next-line no-control-regex
  else if (/[\u0000-\u001f\u007f]/.test(name)) errors.name = "The name can only hold printable characters.";
  if (!form.allowAll) {
    if (Object.keys(form.grants).length === 0)
      errors.permissions = "Choose at least one permission, the read-only preset or allow all.";
    for (const [perm, scopes] of Object.entries(form.grants)) {
      const levels = scopeLevelsFor(catalog, perm);
      scopes.forEach((s, i) => {
        if (s.level === "") return;
        if (!levels.includes(s.level))
          errors[scopeErrorKey(perm, i)] = `${permissionLabel(catalog, perm)} cannot be scoped to ${article(s.level)} ${s.level}.`;
        else if (!s.id) errors[scopeErrorKey(perm, i)] = `Choose the ${s.level} or make it organization-wide.`;
      });
    }
  }
  if (form.expiry !== "keep") {
    const r = computeExpiry(form.expiry, now, form.customExpiry, form.untilExpiry);
    if (!r.ok) errors.expiry = r.error;
  }
  return errors;
}

// ---------------------------------------------------------- request body

function grantInputs(form: FormState, catalog: Catalog): GrantInput[] {
  const out: GrantInput[] = [];
  for (const perm of orderedSelection(catalog, form.grants)) {
    const seen = new Set<string>();
    for (const s of form.grants[perm]) {
      const key = s.level ? `${s.level}:${s.id}` : "";
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(s.level ? { permission: perm, scope: { level: s.level, id: s.id } } : { permission: perm });
    }
  }
  return out;
}

function grantKey(g: { permission: string; scope?: { level: string; id: string } | null }): string {
  return g.scope ? `${g.permission}@${g.scope.level}:${g.scope.id}` : g.permission;
}

function sameGrants(a: GrantInput[], b: GrantInput[]): boolean {
  const ka = a.map(grantKey).sort();
  const kb = b.map(grantKey).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

export interface BuiltRequest {
  body: KeyRequest;
  /** body.permissions[i].permission, to place server errors like "permissions[2].scope". */
  grantOrder: string[];
}

/**
 * The JSON body for POST (create) or PATCH (edit, only what changed against
 * `original`). It holds exactly one of permissions / preset / allow_all and
 * at most one of expiration / expires_at (exactly one on create).
 */
export function buildRequest(
  form: FormState,
  catalog: Catalog,
  now: Date,
  original?: ApiKey,
): BuiltRequest {
  const body: KeyRequest = {};
  const name = form.name.trim();
  if (!original || name !== original.name) body.name = name;

  const mode = accessMode(form, catalog);
  const grants = grantInputs(form, catalog);
  let grantOrder: string[] = [];
  const originalGrants: GrantInput[] = original
    ? original.permissions.map((g) =>
        g.scope ? { permission: g.permission, scope: { level: g.scope.level, id: g.scope.id } } : { permission: g.permission },
      )
    : [];
  const accessChanged =
    !original ||
    (mode === "allow_all" ? !original.allow_all : original.allow_all || !sameGrants(grants, originalGrants));
  if (accessChanged) {
    if (mode === "allow_all") body.allow_all = true;
    else if (mode === "preset") body.preset = form.preset!;
    else {
      body.permissions = grants;
      grantOrder = grants.map((g) => g.permission);
    }
  }

  if (form.expiry !== "keep" || !original) {
    const choice = form.expiry === "keep" ? "30d" : form.expiry;
    if (choice === "custom" || choice === "until") {
      const r = computeExpiry(choice, now, form.customExpiry, form.untilExpiry);
      if (r.ok && r.at) body.expires_at = r.at.toISOString().replace(/\.\d{3}Z$/, "Z");
    } else {
      body.expiration = choice;
    }
  }
  const networks = networksForRequest(form.networks ?? "", original);
  if (networks !== undefined) body.allowed_cidrs = networks;
  return { body, grantOrder };
}

/** The form filled in from an existing key (edit). Expiry starts as "keep". */
export function formFromKey(key: ApiKey): FormState {
  const grants: Record<string, ScopeChoice[]> = {};
  for (const g of key.permissions ?? []) {
    const s: ScopeChoice = g.scope ? { level: g.scope.level, id: g.scope.id, path: g.scope.path } : { ...ORG_WIDE };
    (grants[g.permission] ??= []).push(s);
  }
  const form: FormState = { name: key.name, allowAll: key.allow_all, preset: null, grants, expiry: "keep", customExpiry: "" };
  if ((key.allowed_cidrs ?? []).length > 0) form.networks = networksText(key);
  return form;
}

// --------------------------------------------------------------- summary

function scopeText(s: ScopeChoice, dir: Directory | null): string {
  if (!s.level) return "across the whole organization";
  const path = (s.id && dir?.byId.get(s.id)?.path) || s.path || s.id || "(not chosen yet)";
  return `only in ${s.level} ${path}`;
}

/** What the key will be able to do, one sentence per line, for review before saving. */
export function summarize(
  form: FormState,
  catalog: Catalog,
  dir: Directory | null,
  now: Date,
  currentExpiry: string | null = null,
): string[] {
  const lines: string[] = [];
  const mode = accessMode(form, catalog);
  if (mode === "allow_all") {
    lines.push("Full access to everything in the organization, including permissions added later.");
  } else if (mode === "preset") {
    const preset = catalog.presets.find((p) => p.name === form.preset)!;
    lines.push(
      `${preset.label} preset: ${preset.permissions.map((p) => permissionLabel(catalog, p)).join(", ")}, across the whole organization.`,
    );
  } else {
    const perms = orderedSelection(catalog, form.grants);
    if (perms.length === 0) lines.push("No permissions yet: the key could not do anything.");
    for (const perm of perms) {
      const scopes = form.grants[perm].map((s) => scopeText(s, dir));
      const extra = isWildcard(perm) ? " (including ones added later)" : "";
      lines.push(`${permissionLabel(catalog, perm)}${extra}: ${[...new Set(scopes)].join("; ")}.`);
    }
  }
  if (form.expiry === "keep") {
    lines.push(currentExpiry ? `Keeps its expiry: ${formatUtc(new Date(currentExpiry))}.` : "Keeps its expiry: never.");
  } else {
    const r = computeExpiry(form.expiry, now, form.customExpiry, form.untilExpiry);
    if (r.ok && r.at === null) lines.push("Never expires.");
    else if (r.ok && r.at) {
      const days = Math.round((r.at.getTime() - now.getTime()) / DAY_MS);
      lines.push(`Expires ${formatUtc(r.at)} (in ${days} day${days === 1 ? "" : "s"}).`);
    } else lines.push("Expiry not chosen yet.");
  }
  const networks = networksSummary(form.networks ?? "");
  if (networks) lines.push(networks);
  return lines;
}

/** Where a server field error ("permissions[2].scope.id") belongs in the form. */
export function fieldToFormKey(field: string, grantOrder: string[]): string {
  const f = field.replace(/^body\./, "");
  if (f === "name") return "name";
  if (f === "expiration" || f === "expires_at") return "expiry";
  if (isNetworksField(f)) return "networks";
  const m = /^permissions\[(\d+)\]/.exec(f);
  if (m) {
    const perm = grantOrder[Number(m[1])];
    return perm ? `perm:${perm}` : "permissions";
  }
  if (f.startsWith("permissions") || f === "preset" || f === "allow_all") return "permissions";
  return "form";
}
