// /dashboard/organizations/api-keys/webhooks/new and .../webhooks/{id}/edit:
// an endpoint's address, description and events on one screen. Every field
// error shows at once next to its field (the form's own checks, then the
// server's); a create shows the signing secret once, then the endpoint page.
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api";
import { useAccess, useSession } from "../app";
import { setFlash } from "../carry";
import { ErrorBanner, FieldError, Loading } from "../components/Errors";
import { SecretDialog } from "../components/SecretDialog";
import { Link, navigate, paths } from "../router";
import { useTitle } from "../title";
import type { Webhook, WebhookWithSecret } from "../types";
import {
  MAX_DESCRIPTION,
  NEW_WEBHOOK,
  WEBHOOK_EVENTS,
  cannotCall,
  draftOf,
  fieldOf,
  toggleEvent,
  validateDraft,
  webhookRequest,
  type WebhookDraft,
  type WebhookErrors,
  type WebhookField,
} from "../webhooks";
import "./Webhooks.css";

const FIELD_ID: Record<WebhookField, string> = { url: "webhook-url", description: "webhook-description", events: "webhook-event-key.created" };

export function WebhookForm({ id }: { id?: string }) {
  const { session } = useSession();
  const access = useAccess();
  const editing = id !== undefined;
  const [original, setOriginal] = useState<Webhook | null>(null);
  const [draft, setDraft] = useState<WebhookDraft>(NEW_WEBHOOK);
  const [errors, setErrors] = useState<WebhookErrors>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<WebhookWithSecret | null>(null);
  useTitle(editing ? "Edit webhook endpoint" : "Add webhook endpoint");

  useEffect(() => {
    if (!id) return;
    session.client.getWebhook(id).then((w) => {
      setOriginal(w);
      setDraft(draftOf(w));
    }, setProblem);
  }, [id]);

  const why = access ? cannotCall(access.catalog, access.key, editing ? "updateWebhook" : "createWebhook") : null;

  if (editing && !original)
    return problem ? (
      <section>
        <h1 tabIndex={-1}>Edit webhook endpoint</h1>
        <ErrorBanner error={problem} />
        <Link href={paths.webhooks}>Back to webhooks</Link>
      </section>
    ) : (
      <Loading what="the endpoint" />
    );

  const focusFirst = (errs: WebhookErrors) => {
    const first = (["url", "description", "events"] as WebhookField[]).find((f) => errs[f]);
    if (first) window.setTimeout(() => document.getElementById(FIELD_ID[first])?.focus(), 0);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    setNotice("");
    const errs = validateDraft(draft);
    setErrors(errs);
    if (Object.keys(errs).length) {
      focusFirst(errs);
      return;
    }
    const body = webhookRequest(draft, original ?? undefined);
    if (!body) {
      setNotice("Nothing to save: no field changed.");
      return;
    }
    setBusy(true);
    try {
      if (original) {
        await session.client.updateWebhook(original.id, body);
        setFlash("Endpoint saved.");
        navigate(paths.webhook(original.id));
      } else {
        setCreated(await session.client.createWebhook(body));
      }
    } catch (err) {
      const fieldErrs: WebhookErrors = {};
      const rest: string[] = [];
      if (err instanceof ApiError)
        for (const f of err.fieldErrors()) {
          const k = fieldOf(f.field);
          if (k) fieldErrs[k] = fieldErrs[k] ? `${fieldErrs[k]} ${f.message}` : capitalize(f.message);
          else rest.push(f.field);
        }
      setErrors(fieldErrs);
      if (Object.keys(fieldErrs).length && rest.length === 0) focusFirst(fieldErrs);
      else setProblem(err);
      setBusy(false);
    }
  };

  const set = (k: "url" | "description", v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const described = (k: WebhookField, hint?: string) => [hint, errors[k] ? `${FIELD_ID[k]}-error` : ""].filter(Boolean).join(" ") || undefined;
  const length = [...draft.description].length;

  return (
    <section>
      <p class="crumbs">
        <Link href={paths.webhooks}>Webhooks</Link> /
      </p>
      <h1 tabIndex={-1}>{editing ? "Edit webhook endpoint" : "Add webhook endpoint"}</h1>
      {why && (
        <p class="banner banner-warning" data-testid="webhook-form-why">
          {why} Ask someone whose key holds it.
        </p>
      )}
      <ErrorBanner error={problem} />
      <form class="section webhook-form" onSubmit={submit} noValidate data-testid="webhook-form">
        <label class="label" for="webhook-url">
          Endpoint URL
        </label>
        <input
          id="webhook-url"
          class="input"
          type="url"
          inputMode="url"
          autoComplete="off"
          spellcheck={false}
          placeholder="https://hooks.example.com/dotenv"
          value={draft.url}
          aria-invalid={errors.url ? "true" : undefined}
          aria-describedby={described("url", "webhook-url-hint")}
          data-testid="webhook-url"
          onInput={(e) => set("url", (e.currentTarget as HTMLInputElement).value)}
        />
        <p class="hint" id="webhook-url-hint">
          An https:// address reachable from the internet: loopback, private and cloud metadata addresses are refused.
        </p>
        <FieldError id="webhook-url-error" message={errors.url} />

        <label class="label" for="webhook-description">
          Description <span class="muted">(optional)</span>
        </label>
        <input
          id="webhook-description"
          class="input"
          autoComplete="off"
          value={draft.description}
          aria-invalid={errors.description ? "true" : undefined}
          aria-describedby={described("description", "webhook-description-hint")}
          data-testid="webhook-description"
          onInput={(e) => set("description", (e.currentTarget as HTMLInputElement).value)}
        />
        <p class="hint" id="webhook-description-hint">
          For people: what listens there. {length}/{MAX_DESCRIPTION} characters.
        </p>
        <FieldError id="webhook-description-error" message={errors.description} />

        <fieldset
          class="webhook-events-field"
          aria-invalid={errors.events ? "true" : undefined}
          aria-describedby={errors.events ? "webhook-events-error" : undefined}
          data-testid="webhook-events-field"
        >
          <legend class="label">Events</legend>
          <div class="toolbar">
            <button
              type="button"
              class="button button-small"
              data-testid="webhook-events-all"
              onClick={() => setDraft((d) => ({ ...d, events: WEBHOOK_EVENTS.map((x) => x.type) }))}
            >
              Select all
            </button>
            <button type="button" class="button button-small" data-testid="webhook-events-none" onClick={() => setDraft((d) => ({ ...d, events: [] }))}>
              Clear
            </button>
          </div>
          <ul class="webhook-event-choices">
            {WEBHOOK_EVENTS.map((ev) => (
              <li key={ev.type}>
                <label class="check" for={`webhook-event-${ev.type}`}>
                  <input
                    id={`webhook-event-${ev.type}`}
                    type="checkbox"
                    checked={draft.events.includes(ev.type)}
                    aria-describedby={`webhook-event-${ev.type}-about`}
                    data-testid={`webhook-event-${ev.type}`}
                    onChange={(e) => setDraft((d) => toggleEvent(d, ev.type, (e.currentTarget as HTMLInputElement).checked))}
                  />
                  <span>
                    <strong>{ev.label}</strong> <code class="perm-name">{ev.type}</code>
                    <span class="hint webhook-event-about" id={`webhook-event-${ev.type}-about`}>
                      {ev.description}
                    </span>
                  </span>
                </label>
              </li>
            ))}
          </ul>
          <FieldError id="webhook-events-error" message={errors.events} />
        </fieldset>

        {notice && (
          <p class="banner banner-info" role="status" data-testid="webhook-form-notice">
            {notice}
          </p>
        )}
        <div class="actions">
          <button type="submit" class="button button-primary" disabled={busy || !!why} data-testid="submit-webhook">
            {busy ? "Saving…" : editing ? "Save endpoint" : "Add endpoint"}
          </button>
          <Link href={original ? paths.webhook(original.id) : paths.webhooks} class="button" data-testid="cancel-webhook">
            Cancel
          </Link>
        </div>
      </form>
      {created && (
        <SecretDialog
          secret={created.secret}
          url={created.url}
          onClose={() => {
            const to = paths.webhook(created.id);
            setCreated(null);
            setFlash("Endpoint added. Deliveries appear below as events happen.");
            navigate(to);
          }}
        />
      )}
    </section>
  );
}

function capitalize(s: string): string {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
