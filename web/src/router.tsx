// A tiny client-side router on the History API. Paths carry only ids, never
// tokens; history state is always null.
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

const listeners = new Set<() => void>();
const emit = () => listeners.forEach((l) => l());

if (typeof window !== "undefined") window.addEventListener("popstate", emit);

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  emit();
  window.scrollTo(0, 0);
}

export function currentPath(): string {
  return window.location.pathname;
}

export function usePath(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const l = () => setPath(currentPath());
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return path;
}

/** The query string of the address ("?q=ci" or ""), updated on navigation and on setQuery. */
export function useSearch(): string {
  const [search, setSearch] = useState(window.location.search);
  useEffect(() => {
    const l = () => setSearch(window.location.search);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return search;
}

/** Changes the query string of the current page ("" drops it); replace does not add a history entry. */
export function setQuery(search: string, opts: { replace?: boolean } = {}): void {
  const to = window.location.pathname + search;
  if (opts.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  emit();
}

/** Matches a pattern such as patterns.edit against a path; answers the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split("/").filter(Boolean);
  const s = path.replace(/\/+$/, "").split("/").filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(":")) {
      try {
        params[p[i].slice(1)] = decodeURIComponent(s[i]);
      } catch {
        return null;
      }
    } else if (p[i] !== s[i]) return null;
  }
  return params;
}

type LinkProps = { href: string; children: ComponentChildren } & Omit<JSX.HTMLAttributes<HTMLAnchorElement>, "href">;

export function Link({ href, children, ...rest }: LinkProps) {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}

/** The prefix of every dashboard page. */
export const BASE = "/dashboard/organizations/api-keys";

/** Every page of the dashboard lives under BASE. */
export const paths = {
  list: BASE,
  create: `${BASE}/create`,
  directory: `${BASE}/directory`,
  activity: `${BASE}/activity`,
  webhooks: `${BASE}/webhooks`,
  webhookNew: `${BASE}/webhooks/new`,
  webhook: (id: string) => `${BASE}/webhooks/${encodeURIComponent(id)}`,
  webhookEdit: (id: string) => `${BASE}/webhooks/${encodeURIComponent(id)}/edit`,
  key: (id: string) => `${BASE}/${encodeURIComponent(id)}`,
  edit: (id: string) => `${BASE}/${encodeURIComponent(id)}/edit`,
  explore: (id: string) => `${BASE}/${encodeURIComponent(id)}/explore`,
};

/** The route patterns of the pages, for match(). */
export const patterns = {
  list: BASE,
  create: `${BASE}/create`,
  directory: `${BASE}/directory`,
  activity: `${BASE}/activity`,
  webhooks: `${BASE}/webhooks`,
  webhookNew: `${BASE}/webhooks/new`,
  webhook: `${BASE}/webhooks/:id`,
  webhookEdit: `${BASE}/webhooks/:id/edit`,
  key: `${BASE}/:id`,
  edit: `${BASE}/:id/edit`,
  explore: `${BASE}/:id/explore`,
};

/**
 * Where an address of the old scheme now lives: /api-keys/{id}[/edit] moved
 * under BASE (the Go handler web/handler.go redirects them the same way);
 * null for any other path.
 */
export function legacyRedirect(path: string): string | null {
  if (path !== "/api-keys" && !path.startsWith("/api-keys/")) return null;
  return "/dashboard/organizations" + path.replace(/\/+$/, "");
}
