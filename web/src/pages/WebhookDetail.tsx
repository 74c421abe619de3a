// /dashboard/organizations/api-keys/webhooks/{id}: one endpoint, its actions
// (edit, rotate the signing secret, delete) and its latest deliveries, each
// with its attempts and payload and a way to send it again. The list is read
// again while a delivery is on its way, soon after its next attempt is due.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api";
import { useAccess, useSession } from "../app";
import { setFlash, takeFlash } from "../carry";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { ErrorBanner, Loading, errorText } from "../components/Errors";
import { SecretDialog } from "../components/SecretDialog";
import { formatDate } from "../format";
import { Link, navigate, paths } from "../router";
import { useTitle } from "../title";
import type { Webhook, WebhookDelivery, WebhookWithSecret } from "../types";
import { WEBHOOK_EVENTS, attemptText, cannotCall, deliveryOutcome, eventLabel, isRunning, nextRefreshIn } from "../webhooks";
import { When } from "./KeyList";
import "./Webhooks.css";

/** The host of an endpoint's URL, for the tab title (the URL itself when it does not parse). */
function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

export function WebhookDetail({ id }: { id: string }) {
  const { session } = useSession();
  const access = useAccess();
  const client = session.client;
  const [flash, setFlashState] = useState(() => takeFlash());
  const [hook, setHook] = useState<Webhook | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [dialog, setDialog] = useState<"rotate" | "delete" | null>(null);
  const [secret, setSecret] = useState<WebhookWithSecret | null>(null);
  useTitle(hook ? hostOf(hook.url) : null, "Webhook");

  const load = () => client.getWebhook(id).then(setHook, setError);
  useEffect(() => {
    load();
  }, [id]);

  if (error && !hook)
    return (
      <section>
        <h1 tabIndex={-1}>Webhook endpoint</h1>
        <ErrorBanner error={error} />
        <Link href={paths.webhooks}>Back to webhooks</Link>
      </section>
    );
  if (!hook) return <Loading what="the endpoint" />;

  const why = (op: Parameters<typeof cannotCall>[2]) => (access ? cannotCall(access.catalog, access.key, op) : null);
  const updateWhy = why("updateWebhook");
  const deleteWhy = why("deleteWebhook");

  return (
    <section>
      <p class="crumbs">
        <Link href={paths.webhooks}>Webhooks</Link> /
      </p>
      <h1 tabIndex={-1} class="webhook-heading" data-testid="webhook-heading">
        {hook.url}
      </h1>
      {hook.description && <p class="lead">{hook.description}</p>}
      {flash && (
        <p class="banner banner-success" role="status" data-testid="flash">
          {flash}
        </p>
      )}
      <div class="actions">
        {updateWhy ? (
          <button type="button" class="button" disabled aria-describedby="webhook-actions-why" data-testid="edit-webhook">
            Edit
          </button>
        ) : (
          <Link href={paths.webhookEdit(hook.id)} class="button" data-testid="edit-webhook">
            Edit
          </Link>
        )}
        <button
          type="button"
          class="button"
          disabled={!!updateWhy}
          aria-describedby={updateWhy ? "webhook-actions-why" : undefined}
          data-testid="rotate-secret"
          onClick={() => setDialog("rotate")}
        >
          Rotate secret
        </button>
        <button
          type="button"
          class="button button-danger"
          disabled={!!deleteWhy}
          aria-describedby={deleteWhy ? "webhook-actions-why" : undefined}
          data-testid="delete-webhook"
          onClick={() => setDialog("delete")}
        >
          Delete
        </button>
        {(updateWhy || deleteWhy) && (
          <span class="hint" id="webhook-actions-why" data-testid="webhook-actions-why">
            {[updateWhy && `${updateWhy} It cannot edit the endpoint, rotate its secret or retry deliveries.`, deleteWhy && `${deleteWhy} It cannot delete the endpoint.`]
              .filter(Boolean)
              .join(" ")}
          </span>
        )}
      </div>

      <dl class="facts" data-testid="webhook-facts">
        <dt>Endpoint id</dt>
        <dd>
          <code data-testid="webhook-id">{hook.id}</code>
        </dd>
        <dt>Events</dt>
        <dd>
          <ul class="webhook-event-list" data-testid="webhook-event-list">
            {WEBHOOK_EVENTS.filter((e) => hook.events.includes(e.type)).map((e) => (
              <li key={e.type} data-type={e.type}>
                {e.label} <code class="perm-name">{e.type}</code>
              </li>
            ))}
          </ul>
        </dd>
        <dt>Signing secret</dt>
        <dd data-testid="webhook-secret-state">
          Shown once, when the endpoint was added or its secret rotated.
          {hook.previous_secret_expires_at && (
            <>
              {" "}
              The previous secret also signs until <When iso={hook.previous_secret_expires_at} />.
            </>
          )}
        </dd>
        <dt>Added</dt>
        <dd>
          <When iso={hook.created_at} empty="" />
        </dd>
        <dt>Updated</dt>
        <dd>
          <When iso={hook.updated_at} empty="" />
        </dd>
      </dl>

      <Deliveries hook={hook} retryWhy={updateWhy} />

      {dialog === "rotate" && (
        <RotateSecretDialog
          hook={hook}
          onCancel={() => setDialog(null)}
          onRotated={(w) => {
            setDialog(null);
            setFlashState(null);
            setSecret(w);
          }}
        />
      )}
      {dialog === "delete" && <DeleteWebhookDialog hook={hook} onCancel={() => setDialog(null)} />}
      {secret && (
        <SecretDialog
          secret={secret.secret}
          url={secret.url}
          rotated
          onClose={() => {
            setSecret(null);
            setFlashState("Signing secret rotated.");
            load();
          }}
        />
      )}
    </section>
  );
}

/** The endpoint's latest deliveries, newest first, read again while one is pending. */
function Deliveries({ hook, retryWhy }: { hook: Webhook; retryWhy: string | null }) {
  const { session } = useSession();
  const [items, setItems] = useState<WebhookDelivery[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState("");
  const [rowError, setRowError] = useState<{ id: string; text: string } | null>(null);
  const [busy, setBusy] = useState("");
  const live = useRef(true);

  const read = () =>
    session.client.listWebhookDeliveries(hook.id).then(
      (ds) => {
        if (!live.current) return;
        setItems(ds);
        setError(null);
      },
      (e) => live.current && setError(e),
    );
  useEffect(() => {
    live.current = true;
    read();
    return () => {
      live.current = false;
    };
  }, [hook.id]);
  // While a delivery is on its way, read the list again once its next attempt is due.
  useEffect(() => {
    const wait = items ? nextRefreshIn(items, Date.now()) : null;
    if (wait === null) return;
    const t = window.setTimeout(read, wait);
    return () => window.clearTimeout(t);
  }, [items]);

  const retry = async (d: WebhookDelivery) => {
    setBusy(d.id);
    setRowError(null);
    setStatus("");
    try {
      const queued = await session.client.retryWebhookDelivery(hook.id, d.id);
      setItems((list) => (list ?? []).map((x) => (x.id === queued.id ? queued : x)));
      setStatus(`${eventLabel(d.event_type)} queued again: it is sent within seconds, with the same webhook-id.`);
    } catch (e) {
      setRowError({ id: d.id, text: e instanceof ApiError && e.status === 409 ? "An attempt is running: wait for its outcome, then retry." : errorText(e) });
    } finally {
      setBusy("");
    }
  };

  return (
    <section class="section" aria-labelledby="deliveries-title" data-testid="deliveries">
      <div class="page-head">
        <h2 id="deliveries-title">Deliveries</h2>
        <button type="button" class="button button-small" data-testid="refresh-deliveries" onClick={read}>
          Refresh
        </button>
      </div>
      <p class="hint">
        The latest events sent to this endpoint, newest first. A failed attempt is retried with backoff for 24 hours; a
        delivery keeps its webhook-id on every attempt, so the receiver can ignore repeats.
      </p>
      <p role="status" class="muted" data-testid="deliveries-status">
        {status}
      </p>
      <ErrorBanner error={error} testId="deliveries-error" />
      {!items && !error && <Loading what="the deliveries" />}
      {items && items.length === 0 && (
        <p class="empty" data-testid="deliveries-empty">
          Nothing sent yet. Deliveries appear here when one of the endpoint's events happens.
        </p>
      )}
      {items && items.length > 0 && (
        <ul class="delivery-list" data-testid="delivery-list">
          {items.map((d) => (
            <li key={d.id} class="delivery" data-testid="delivery" data-id={d.id} data-state={d.state}>
              <div class="delivery-head">
                <span class={`badge delivery-${d.state}`} data-testid="delivery-state">
                  {d.state === "pending" ? (isRunning(d) ? "Sending" : "Pending") : d.state === "delivered" ? "Delivered" : "Failed"}
                </span>
                <strong>{eventLabel(d.event_type)}</strong>
                <span class="muted">
                  <When iso={d.created_at} empty="" />
                </span>
              </div>
              <p class="delivery-outcome" data-testid="delivery-outcome">
                {deliveryOutcome(d, formatDate)}
              </p>
              <details class="delivery-details">
                <summary>Attempts and payload</summary>
                <p class="muted">
                  webhook-id <code>{d.id}</code>
                </p>
                {d.attempts.length > 0 && (
                  <ol class="delivery-attempts" data-testid="delivery-attempts">
                    {d.attempts.map((a, i) => (
                      <li key={i}>
                        <time dateTime={a.at} title={a.at}>
                          {formatDate(a.at)}
                        </time>
                        : {attemptText(a)}
                      </li>
                    ))}
                  </ol>
                )}
                <pre class="code" data-testid="delivery-payload" tabIndex={0} aria-label={`Payload of the ${eventLabel(d.event_type)} delivery`}>
                  {JSON.stringify(d.payload, null, 2)}
                </pre>
              </details>
              <div class="actions delivery-actions">
                <button
                  type="button"
                  class="button button-small"
                  disabled={!!retryWhy || isRunning(d) || busy === d.id}
                  aria-describedby={retryWhy ? "webhook-actions-why" : undefined}
                  aria-label={`Retry the ${eventLabel(d.event_type)} delivery of ${formatDate(d.created_at)}`}
                  data-testid="retry-delivery"
                  onClick={() => retry(d)}
                >
                  {busy === d.id ? "Retrying…" : "Retry"}
                </button>
                {rowError?.id === d.id && (
                  <span class="field-error" role="alert" data-testid="retry-error">
                    {rowError.text}
                  </span>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Asks before rotating the signing secret; the new one is shown once. */
function RotateSecretDialog({ hook, onCancel, onRotated }: { hook: Webhook; onCancel: () => void; onRotated: (w: WebhookWithSecret) => void }) {
  const { session } = useSession();
  return (
    <ConfirmDialog
      title="Rotate the signing secret?"
      testId="rotate-secret-dialog"
      name="rotate-secret"
      confirm="Rotate secret"
      running="Rotating…"
      onCancel={onCancel}
      onConfirm={async () => onRotated(await session.client.rotateWebhookSecret(hook.id))}
    >
      <p>
        A new secret is made and shown once. <strong>The current secret keeps signing for 24 hours</strong>: until then
        each delivery carries both signatures, so the receiver can switch without missing an event.
      </p>
      {hook.previous_secret_expires_at && (
        <p class="banner banner-info">
          The secret before the current one still signs until {formatDate(hook.previous_secret_expires_at)}: rotating
          again stops it at once, as only one previous secret is kept.
        </p>
      )}
    </ConfirmDialog>
  );
}

/** Asks before deleting an endpoint; then the webhooks page says so (also when it was already gone). */
function DeleteWebhookDialog({ hook, onCancel }: { hook: Webhook; onCancel: () => void }) {
  const { session } = useSession();
  const remove = async () => {
    try {
      await session.client.deleteWebhook(hook.id);
      setFlash(`Endpoint ${hook.url} deleted: it receives no more events.`);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
      setFlash("The endpoint had already been deleted.");
    }
    navigate(paths.webhooks);
  };
  return (
    <ConfirmDialog
      title="Delete this endpoint?"
      testId="delete-webhook-dialog"
      name="delete-webhook"
      confirm="Delete endpoint"
      running="Deleting…"
      onCancel={onCancel}
      onConfirm={remove}
    >
      <p>
        <code class="webhook-url-inline">{hook.url}</code> stops receiving events at once: deliveries still pending
        are dropped. This cannot be undone.
      </p>
    </ConfirmDialog>
  );
}
