import type { Unreadable } from "../types";
import { unreadableNotice, type UnreadableKind } from "../unreadable";

/** A warning naming the stored items a list could not read, with what to do (nothing when none). */
export function UnreadableBanner({ items, kind }: { items: Unreadable[] | undefined; kind: UnreadableKind }) {
  const notice = unreadableNotice(items, kind);
  if (!notice) return null;
  return (
    <div class="banner banner-warning" role="status" data-testid="unreadable-banner">
      <p>
        <strong>{notice.title}.</strong>
      </p>
      <ul>
        {notice.items.map((u) => (
          <li key={u.id} data-testid="unreadable-item" data-id={u.id}>
            <code>{u.id}</code>: {u.message}
          </li>
        ))}
      </ul>
      <p>{notice.advice}</p>
    </div>
  );
}
