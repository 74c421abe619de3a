// /dashboard/organizations/api-keys/webhooks: the organization's webhook
// endpoints (GET /v1/webhooks, at most 20, one answer) and the way to add one.
import { useEffect, useState } from "preact/hooks";
import { useAccess, useSession } from "../app";
import { takeFlash } from "../carry";
import { ErrorBanner, Loading } from "../components/Errors";
import { Link, paths } from "../router";
import { useTitle } from "../title";
import { UnreadableBanner } from "../components/UnreadableBanner";
import type { Unreadable, Webhook } from "../types";
import { cannotCall, eventsSummary } from "../webhooks";
import { When } from "./KeyList";
import "./Webhooks.css";

/** The most endpoints an organization may have (the server answers 409 past it). */
const MAX_ENDPOINTS = 20;

export function WebhooksPage() {
  const { session } = useSession();
  const access = useAccess();
  const [flash] = useState(() => takeFlash());
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [unreadable, setUnreadable] = useState<Unreadable[]>([]);
  const [error, setError] = useState<unknown>(null);
  useTitle("Webhooks");

  useEffect(() => {
    session.client.listWebhooksPage().then((l) => {
      setHooks(l.items ?? []);
      setUnreadable(l.unreadable ?? []);
    }, setError);
  }, []);

  const why = access ? cannotCall(access.catalog, access.key, "createWebhook") : null;
  // An endpoint the server cannot read still counts toward the limit.
  const full = (hooks?.length ?? 0) + unreadable.length >= MAX_ENDPOINTS;

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Webhooks</h1>
        {why || full ? (
          <span class="webhook-add-blocked">
            <button type="button" class="button button-primary" disabled aria-describedby="add-webhook-why" data-testid="add-webhook">
              Add endpoint
            </button>
            <span id="add-webhook-why" class="hint" data-testid="add-webhook-why">
              {why ?? `The organization already has ${MAX_ENDPOINTS} endpoints, the most it may have: delete one first.`}
            </span>
          </span>
        ) : (
          <Link href={paths.webhookNew} class="button button-primary" data-testid="add-webhook">
            Add endpoint
          </Link>
        )}
      </div>
      <p class="lead">
        DotEnv sends a signed JSON event to each endpoint when an API key is created, edited, rotated, deleted, revoked
        after a leak, or is about to expire. Each request carries <code>webhook-id</code>, <code>webhook-timestamp</code>{" "}
        and <code>webhook-signature</code> headers (Standard Webhooks): verify them with the endpoint's signing secret.
      </p>
      {flash && (
        <p class="banner banner-success" role="status" data-testid="flash">
          {flash}
        </p>
      )}
      <ErrorBanner error={error} />
      <UnreadableBanner items={unreadable} kind="endpoint" />
      {!hooks && !error && <Loading what="the webhook endpoints" />}
      {hooks && hooks.length === 0 && (
        <div class="empty" data-testid="webhooks-empty">
          <p>
            <strong>No endpoint yet.</strong>
          </p>
          <p class="muted">Add one to be told before keys expire and as soon as a leaked key is revoked.</p>
        </div>
      )}
      {hooks && hooks.length > 0 && (
        <ul class="webhook-list" data-testid="webhook-list" aria-label="Endpoints">
          {hooks.map((h) => (
            <li key={h.id} class="webhook-card" data-testid="webhook-row" data-id={h.id}>
              <Link href={paths.webhook(h.id)} class="webhook-url" data-testid="webhook-link">
                {h.url}
              </Link>
              {h.description && <p class="webhook-description">{h.description}</p>}
              <p class="webhook-events" data-testid="webhook-events">
                <span class="muted">Events:</span> {eventsSummary(h.events)}
              </p>
              <p class="muted webhook-created">
                Added <When iso={h.created_at} />
                {h.previous_secret_expires_at && " · secret rotated: the previous one still signs"}
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
