// What the dashboard knows of the signed-in key: its grants and the catalog
// (read once per session), or that it cannot know them (a key without
// api_tokens:read cannot read itself). Pages offer what the key may do; when
// that is unknown they offer it and the server's answer says what it may not.
import type { ApiKey, Catalog } from "./types";

/** The signed-in key and the catalog. */
export interface Access {
  catalog: Catalog;
  key: ApiKey;
}

/** Still reading, read, or not readable by this key. */
export type AccessState = { state: "loading" } | { state: "unknown" } | { state: "known"; access: Access };

/**
 * Whether the navigation offers a page: not while the key is being read,
 * and not when the key is known to lack what the page needs (may).
 */
export function navOffers(s: AccessState, may: (a: Access) => boolean): boolean {
  if (s.state === "loading") return false;
  return s.state === "unknown" || may(s.access);
}
