// Rules of the key page, the token dialog and the explorer's "Can this key…?"
// checker that do not need the page: kept here so Vitest can hold them.
import { findPermission } from "./rules";
import type { ApiKey, Catalog, NodeLevel, Scope, ScopeLevel, VerifyResponse } from "./types";

/** The name the server gives a node that no longer exists (shared/keys DeletedName). */
export const DELETED_NAME = "(deleted)";

/** True when a grant's scope names a node (or an ancestor) that was deleted. */
export function scopeDeleted(scope: Scope | null | undefined): boolean {
  if (!scope?.path) return false;
  return scope.path.split(" / ").some((part) => part.trim() === DELETED_NAME);
}

/**
 * What the key page and the list offer for a key: an expired key can only be
 * viewed, explored or deleted (the server refuses to edit or rotate it:
 * key_expired); a revoked key can be rotated (without grace: that makes it
 * active again with a new token) or deleted, and is not edited before that
 * (docs/http-api.md, "Leaked tokens"); its token answers 401 everywhere, so
 * it is not explored either.
 */
export function keyActions(key: Pick<ApiKey, "status">): KeyActions {
  switch (key.status) {
    case "expired":
      return { edit: false, rotate: false, explore: true, remove: true };
    case "revoked":
      return { edit: false, rotate: true, explore: false, remove: true };
    default:
      return { edit: true, rotate: true, explore: true, remove: true };
  }
}

/** The actions offered for a key (explore: its token is of any use in the explorer). */
export interface KeyActions {
  edit: boolean;
  rotate: boolean;
  explore: boolean;
  remove: boolean;
}

/** The banner of a revoked key: what happened and what to do. The url is text to show, never a link to follow. */
export interface RevokedBanner {
  /** "This key was revoked on <date>: its token was reported as leaked by GitHub secret scanning." */
  what: string;
  /** Where the token was found, as the report said (absent when it said nothing). */
  url?: string;
  /** What it was found on (e.g. commit, content), as the report said. */
  source?: string;
  /** What to do. */
  todo: string;
}

const REPORTERS: Record<string, string> = {
  github: "GitHub secret scanning",
  self_report: "a self-report (someone holding the token sent it to POST /v1/leaks)",
};

/** The banner of a revoked key, or null when the key is not revoked (an expired key keeps the expired banner). */
export function revokedBanner(
  key: Pick<ApiKey, "status" | "revocation">,
  format: (iso: string) => string,
): RevokedBanner | null {
  if (key.status !== "revoked" || !key.revocation) return null;
  const r = key.revocation;
  const by = REPORTERS[r.reporter] ?? `a report (${r.reporter})`;
  const what = r.reason === "leaked" ? "its token was reported as leaked" : `its token was reported (${r.reason})`;
  const out: RevokedBanner = {
    what: `This key was revoked on ${format(r.at)}: ${what} by ${by}.`,
    todo: "Rotate this key to get a new token; the leaked token never works again. Or delete the key if nothing needs it.",
  };
  const url = r.url?.trim();
  const source = r.source?.trim();
  if (url) out.url = url;
  if (source) out.source = source;
  return out;
}

/** The banner of an expired key (the page adds the "Create a new key" link), or null. */
export function expiredBanner(key: Pick<ApiKey, "status" | "expires_at">, format: (iso: string) => string): string | null {
  if (key.status !== "expired") return null;
  const when = key.expires_at ? ` on ${format(key.expires_at)}` : "";
  return `This key expired${when}: it can only be viewed or deleted.`;
}

/** The warning shown before rotating or deleting the key the dashboard is signed in with. */
export function selfWarning(
  action: "rotate" | "delete",
  keyId: string,
  sessionKeyId: string,
  graceSeconds = 0,
): string | null {
  if (keyId !== sessionKeyId) return null;
  if (action === "delete") return "You are signed in with this key: deleting it signs you out of the dashboard at once.";
  return graceSeconds > 0
    ? "You are signed in with this key: the dashboard keeps working until the grace period ends, then signs you out; sign in again with the new token."
    : "You are signed in with this key: rotating it signs you out, and you sign in again with the new token.";
}

/** The variable name the snippets store the token under. */
export const TOKEN_VARIABLE = "DOTENV_API_KEY";

/** What the token looks like on screen in a snippet (the token itself is shown once, above). */
export const TOKEN_PLACEHOLDER = "<your token>";

export interface Snippet {
  id: "github" | "gitlab" | "dotenv";
  label: string;
  /** The accessible name of its copy button ("Copy GitHub Actions command"): each one distinct. */
  copyName: string;
  /** The command as shown: a placeholder where the token goes. */
  shown: string;
  /** The command the copy button puts on the clipboard, with the token. */
  copied: string;
}

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Ready-to-paste commands for the common CI secret stores. Only `copied`
 * holds the token, and it goes to the clipboard only; `shown` never does.
 */
export function tokenSnippets(token: string): Snippet[] {
  const make = (id: Snippet["id"], label: string, copyName: string, cmd: (t: string) => string): Snippet => ({
    id,
    label,
    copyName,
    shown: cmd(TOKEN_PLACEHOLDER),
    copied: cmd(token),
  });
  return [
    make("github", "GitHub Actions secret", "Copy GitHub Actions command", (t) =>
      `gh secret set ${TOKEN_VARIABLE} --body ${t === TOKEN_PLACEHOLDER ? `"${t}"` : shellQuote(t)}`,
    ),
    make("gitlab", "GitLab CI masked variable", "Copy GitLab CI command", (t) =>
      `glab variable set ${TOKEN_VARIABLE} --masked --value ${t === TOKEN_PLACEHOLDER ? `"${t}"` : shellQuote(t)}`,
    ),
    make("dotenv", ".env line", "Copy .env line", (t) => `${TOKEN_VARIABLE}=${t}`),
  ];
}

/** How a node of the organization is named everywhere in the explorer. */
export function nodeLabel(node: { level: NodeLevel; path?: string; id: string }, orgName: string): string {
  if (node.level === "organization") return `Whole organization (${orgName})`;
  return node.path || node.id;
}

/** A node the checker can ask about: the organization, or one node of the directory. */
export interface CheckNode {
  level: NodeLevel;
  id: string;
}

/** The body of POST /v1/verify for "Can this key <permission> on <node>?" (token added by the caller). */
export interface CheckRequest {
  permission: string;
  resource?: Partial<Record<ScopeLevel, string>>;
}

/**
 * Checks the checker's fields against the catalog and builds the request, or
 * answers every field error at once (permission, node).
 */
export function buildCheck(
  catalog: Catalog,
  permission: string,
  node: CheckNode | null,
): { request?: CheckRequest; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const p = permission ? findPermission(catalog, permission) : undefined;
  if (!permission) errors.permission = "Choose a permission.";
  else if (!p) errors.permission = `${permission} is not a permission of the catalog.`;
  if (!node) errors.node = "Choose where: the whole organization or one node.";
  else if (p && node.level !== "organization" && !(p.scope_levels ?? []).includes(node.level as ScopeLevel))
    errors.node = `${p.name} applies ${
      p.scope_levels?.length ? `only at these levels: organization, ${p.scope_levels.join(", ")}` : "to the whole organization only"
    }.`;
  if (Object.keys(errors).length || !node || !p) return { errors };
  if (node.level === "organization") return { request: { permission: p.name }, errors };
  // The server reads the ancestors of the deepest id from the directory.
  return { request: { permission: p.name, resource: { [node.level as ScopeLevel]: node.id } }, errors };
}

export interface Verdict {
  allowed: boolean;
  /** Why, in one sentence (the page prefixes "Allowed." or "Denied."). */
  reason: string;
}

/** Words for the server's answer to a check. */
export function verdict(r: VerifyResponse): Verdict {
  if (r.allowed) return { allowed: true, reason: "One of the key's grants covers this permission here." };
  switch (r.code) {
    case "expired":
      return { allowed: false, reason: "The key has expired." };
    case "not_found":
      return { allowed: false, reason: "The token matches no key (deleted key or superseded token)." };
    case "malformed":
      return { allowed: false, reason: "The token is malformed." };
    case "forbidden": {
      const m = r.missing as { permission?: string; scope?: Scope | null } | undefined;
      if (m?.permission) {
        const where = m.scope ? `${m.scope.level} ${m.scope.path || m.scope.id}` : "the whole organization";
        return { allowed: false, reason: `The key lacks ${m.permission} on ${where}.` };
      }
      return { allowed: false, reason: "No grant of the key covers this permission here." };
    }
  }
  return { allowed: false, reason: `The server answered ${r.code}.` };
}
