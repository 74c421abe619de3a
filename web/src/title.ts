// Every page's own document.title: the page first, the product last, so a
// tab, a bookmark and the browser's history say which page it is.
import { useEffect } from "preact/hooks";

/** What every title ends with. */
export const PRODUCT = "DotEnv";

/**
 * The title of a page from its parts, most specific first; empty parts
 * (a key's name not loaded yet) are left out: pageTitle("CI", "API key")
 * is "CI · API key · DotEnv".
 */
export function pageTitle(...parts: (string | null | undefined)[]): string {
  return [...parts.map((p) => p?.trim() ?? "").filter(Boolean), PRODUCT].join(" · ");
}

/** Sets document.title to pageTitle(parts) while the page shows. */
export function useTitle(...parts: (string | null | undefined)[]): void {
  const title = pageTitle(...parts);
  useEffect(() => {
    document.title = title;
  }, [title]);
}
