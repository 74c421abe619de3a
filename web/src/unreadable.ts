// What a list says about stored items the server could not read (the
// answer's `unreadable`): they are not in the list, so the page names them
// in a banner with what to do. No DOM here, so Vitest covers it directly.
import type { Unreadable } from "./types";

/** The kinds of list that report unreadable items. */
export type UnreadableKind = "key" | "endpoint";

/** The banner's content: a title, the items (id and the server's message), and what to do. */
export interface UnreadableNotice {
  title: string;
  items: Unreadable[];
  advice: string;
}

/** The unreadable items of several pages, each id once, in the order first met. */
export function mergeUnreadable(...lists: (Unreadable[] | undefined)[]): Unreadable[] {
  const seen = new Set<string>();
  const out: Unreadable[] = [];
  for (const list of lists) {
    for (const u of list ?? []) {
      if (seen.has(u.id)) continue;
      seen.add(u.id);
      out.push(u);
    }
  }
  return out;
}

/** The banner for a list's unreadable items, null when there is none. */
export function unreadableNotice(items: Unreadable[] | undefined, kind: UnreadableKind): UnreadableNotice | null {
  const list = mergeUnreadable(items);
  if (list.length === 0) return null;
  const one = list.length === 1;
  if (kind === "key") {
    return {
      title: one
        ? "1 API key could not be read and is not listed"
        : `${list.length} API keys could not be read and are not listed`,
      items: list,
      advice:
        "Its token does not work while it cannot be read. Delete it through the API, DELETE /v1/api-keys/{id} with a key " +
        "allowed to delete it, or follow the message next to its id; contact support if it must be kept.",
    };
  }
  return {
    title: one
      ? "1 webhook endpoint could not be read and is not listed"
      : `${list.length} webhook endpoints could not be read and are not listed`,
    items: list,
    advice:
      "Nothing is delivered to it, and it counts toward the organization's 20 endpoints until it is deleted. Delete it " +
      "through the API, DELETE /v1/webhooks/{id} with a key allowed to delete endpoints, or follow the message next to its id.",
  };
}
