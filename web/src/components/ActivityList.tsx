// Audit events (GET /v1/audit-events) newest first, each in a sentence:
// who did what to which, when, from where, and what changed (from → to);
// "Load more" follows next_cursor. Used by the key page (one key's activity)
// and the organization activity page.
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api";
import { changesOf, eventSentence } from "../audit";
import { useSession } from "../app";
import { formatDate } from "../format";
import { When } from "../pages/KeyList";
import type { AuditEvent, AuditFilter } from "../types";
import { ErrorBanner } from "./Errors";
import "./Activity.css";

const PAGE = 25;

/** Why the list cannot be read, for a refusal of the permission. */
export const AUDIT_FORBIDDEN =
  "Your key cannot read the activity: it needs “Read audit log” (audit_log:read), which only an organization-wide grant or an allow-all key has.";

export function ActivityList({ filter, reload = 0, empty }: { filter: AuditFilter; reload?: number; empty: string }) {
  const { session } = useSession();
  const [items, setItems] = useState<AuditEvent[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const selection = JSON.stringify(filter);

  useEffect(() => {
    let live = true;
    setItems(null);
    setError(null);
    session.client.listAuditEvents(filter, { limit: PAGE }).then(
      (p) => {
        if (!live) return;
        setItems(p.items ?? []);
        setNext(p.next_cursor ?? null);
      },
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [selection, reload]);

  const more = async () => {
    if (!next) return;
    setBusy(true);
    try {
      const p = await session.client.listAuditEvents(filter, { limit: PAGE, cursor: next });
      setItems((prev) => [...(prev ?? []), ...(p.items ?? [])]);
      setNext(p.next_cursor ?? null);
      // Keep the keyboard where the new events start.
      window.setTimeout(() => document.querySelector<HTMLElement>(`[data-event-index="${(items ?? []).length}"]`)?.focus(), 0);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (error instanceof ApiError && error.status === 403)
    return (
      <p class="banner banner-info" data-testid="activity-forbidden">
        {AUDIT_FORBIDDEN}
      </p>
    );
  if (!items)
    return error ? (
      <ErrorBanner error={error} testId="activity-error" />
    ) : (
      <p class="loading" role="status">
        Loading activity…
      </p>
    );
  return (
    <>
      {items.length === 0 ? (
        <p class="muted" data-testid="activity-empty">
          {empty}
        </p>
      ) : (
        <ol class="activity" data-testid="activity">
          {items.map((e, i) => (
            <ActivityItem key={e.id} event={e} index={i} />
          ))}
        </ol>
      )}
      <ErrorBanner error={error} testId="activity-error" />
      {next && (
        <button type="button" class="button" disabled={busy} data-testid="activity-more" onClick={more}>
          {busy ? "Loading…" : "Load more"}
        </button>
      )}
    </>
  );
}

function ActivityItem({ event, index }: { event: AuditEvent; index: number }) {
  const changes = changesOf(event, formatDate);
  return (
    <li class="activity-item" data-testid="audit-event" data-action={event.action} data-event-index={index} tabIndex={-1}>
      <p class="activity-when muted">
        <When iso={event.at} empty="" />
      </p>
      <p class="activity-what" data-testid="audit-sentence">
        {eventSentence(event)}
      </p>
      {changes.length > 0 && (
        <ul class="activity-changes" data-testid="audit-changes">
          {changes.map((c) => (
            <li key={c.field}>
              <span class="change-field">{c.label}</span>: <span class="change-from">{c.from}</span>{" "}
              <span aria-hidden="true">→</span>
              <span class="sr-only">changed to</span> <span class="change-to">{c.to}</span>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
