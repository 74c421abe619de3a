// /dashboard/organizations/api-keys/{id}: everything about one key, and its actions.
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api";
import { useSession } from "../app";
import { setFlash, takeFlash } from "../carry";
import { ActivityList } from "../components/ActivityList";
import { CreatedBy } from "../components/CreatedBy";
import { LastUse } from "../components/LastUse";
import { UsagePanel } from "../components/UsagePanel";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Dialog } from "../components/Dialog";
import { ErrorBanner, Loading, errorText } from "../components/Errors";
import { StatusBadge, statusLabel } from "../components/StatusBadge";
import { TokenDialog } from "../components/TokenDialog";
import { formatDate } from "../format";
import { GRACE_CHOICES, graceOffered, previousToken, rotateConsequence, type PreviousToken } from "../grace";
import { expiredBanner, keyActions, revokedBanner, scopeDeleted, selfWarning } from "../keypage";
import { Link, navigate, paths } from "../router";
import { permissionLabel } from "../rules";
import { useTitle } from "../title";
import type { ApiKey, ApiKeyWithToken, Catalog } from "../types";
import { When } from "./KeyList";
import "./KeyDetail.css";

export function KeyDetail({ id }: { id: string }) {
  const { session } = useSession();
  const client = session.client;
  const [flash, setFlashState] = useState(() => takeFlash());
  const [key, setKey] = useState<ApiKey | null>(null);
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [dialog, setDialog] = useState<"rotate" | "delete" | "end-grace" | null>(null);
  const [rotated, setRotated] = useState<ApiKeyWithToken | null>(null);
  useTitle(key?.name, "API key");

  // Usage and activity read again whenever the key is read again.
  const [reloads, setReloads] = useState(0);
  const load = () =>
    client
      .getKey(id)
      .then((r) => {
        setKey(r.key);
        setReloads((n) => n + 1);
      })
      .catch(setError);

  useEffect(() => {
    load();
    client.permissions().then(setCatalog, () => setCatalog(null));
  }, [id]);

  if (error && !key)
    return (
      <section>
        <h1 tabIndex={-1}>API key</h1>
        <ErrorBanner error={error} />
        <Link href={paths.list}>Back to API keys</Link>
      </section>
    );
  if (!key) return <Loading what="the API key" />;

  const label = (p: string) => (catalog ? permissionLabel(catalog, p) : p);
  const can = keyActions(key);
  const expired = expiredBanner(key, formatDate);
  const revoked = revokedBanner(key, formatDate);
  const orphans = key.permissions.filter((g) => scopeDeleted(g.scope)).length;
  const previous = previousToken(key, Date.now());

  return (
    <section>
      <p class="crumbs">
        <Link href={paths.list}>API keys</Link> /
      </p>
      <div class="title-row">
        <h1 tabIndex={-1} data-testid="key-name-heading">
          {key.name}
        </h1>
        <StatusBadge status={key.status} />
      </div>
      {flash && (
        <p class="banner banner-success" role="status" data-testid="flash">
          {flash}
        </p>
      )}
      {expired && (
        <p class="banner banner-warning" data-testid="key-expired-banner">
          {expired} <Link href={paths.create}>Create a new key</Link>.
        </p>
      )}
      {revoked && (
        <div class="banner banner-error" data-testid="key-revoked-banner">
          <p>
            <strong>{revoked.what}</strong>
          </p>
          {(revoked.url || revoked.source) && (
            <dl class="revocation-facts">
              {revoked.url && (
                <>
                  <dt>Found at</dt>
                  <dd>
                    <code class="revocation-url" data-testid="revocation-url">
                      {revoked.url}
                    </code>
                  </dd>
                </>
              )}
              {revoked.source && (
                <>
                  <dt>Found on</dt>
                  <dd data-testid="revocation-source">{revoked.source}</dd>
                </>
              )}
            </dl>
          )}
          <p>{revoked.todo}</p>
        </div>
      )}
      {orphans > 0 && (
        <p class="banner banner-warning" data-testid="key-deleted-scope-banner">
          {orphans === 1 ? "One grant is" : `${orphans} grants are`} scoped to a node that was deleted: such a grant
          allows nothing. {can.edit ? "Edit the key to remove or re-scope it." : ""}
        </p>
      )}
      <ErrorBanner error={error} />
      <div class="actions">
        {can.edit && (
          <Link href={paths.edit(key.id)} class="button" data-testid="edit-key">
            Edit
          </Link>
        )}
        {can.rotate && (
          <button type="button" class="button" data-testid="rotate-key" onClick={() => setDialog("rotate")}>
            Rotate
          </button>
        )}
        {can.explore && (
          <Link href={paths.explore(key.id)} class="button" data-testid="explore-key">
            Explore
          </Link>
        )}
        <button type="button" class="button button-danger" data-testid="delete-key" onClick={() => setDialog("delete")}>
          Delete
        </button>
      </div>

      <dl class="facts" data-testid="key-facts">
        <dt>Token</dt>
        <dd>
          <code data-testid="key-hint">{key.token_hint}</code>{" "}
          <span class="muted">(only the hint is kept; the token was shown once)</span>
        </dd>
        <dt>Key id</dt>
        <dd>
          <code data-testid="key-id">{key.id}</code>
        </dd>
        <dt>Status</dt>
        <dd data-testid="key-status">
          {statusLabel(key.status)}
        </dd>
        <dt>Expires</dt>
        <dd data-testid="key-expires">
          <When iso={key.expires_at} empty="Never (consider setting an expiry)" />
        </dd>
        <dt>Allowed networks</dt>
        <dd data-testid="key-networks">
          {(key.allowed_cidrs ?? []).length === 0 ? (
            <span class="muted">Any network</span>
          ) : (
            <ul class="network-list">
              {key.allowed_cidrs.map((n) => (
                <li key={n}>
                  <code>{n}</code>
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Last used</dt>
        <dd>
          <LastUse at={key.last_used_at} ip={key.last_used_ip} userAgent={key.last_used_user_agent} testId="key-last-use" />
        </dd>
        <dt>Created</dt>
        <dd>
          <When iso={key.created_at} empty="" />
        </dd>
        <dt>Updated</dt>
        <dd>
          <When iso={key.updated_at} empty="" />
        </dd>
        <dt>Rotated</dt>
        <dd>
          <When iso={key.rotated_at} empty="Never rotated" />
        </dd>
        <dt>Created by</dt>
        <dd>
          <CreatedBy createdBy={key.created_by} names={new Map([[session.keyId, session.keyName]])} />
        </dd>
      </dl>

      {previous && (
        <section class="section previous-token" aria-labelledby="previous-token-title" data-testid="previous-token">
          <h2 id="previous-token-title">Previous token still works</h2>
          <p>
            The last rotation kept the token it replaced working for a grace period, so integrations can move to the new
            token without downtime. Watch its last use: once nothing uses it, end the grace.
          </p>
          <dl class="facts">
            <dt>Token</dt>
            <dd>
              <code data-testid="previous-token-hint">{previous.hint}</code>
            </dd>
            <dt>Works until</dt>
            <dd data-testid="previous-token-expires">
              <When iso={previous.expiresAt} />
            </dd>
            <dt>Last used</dt>
            <dd>
              <LastUse
                at={previous.lastUsedAt}
                ip={previous.lastUsedIp}
                userAgent={previous.lastUsedUserAgent}
                testId="previous-token-last-use"
              />
            </dd>
          </dl>
          <div class="actions">
            <button type="button" class="button button-danger" data-testid="end-grace" onClick={() => setDialog("end-grace")}>
              End grace now
            </button>
          </div>
        </section>
      )}

      <h2>Permissions</h2>
      {key.allow_all ? (
        <p class="banner banner-warning" data-testid="key-allow-all">
          <strong>Allow all:</strong> this key has full access to everything in the organization, including permissions
          added later.
        </p>
      ) : (
        <div class="table-wrap">
          <table class="table" data-testid="key-permissions">
            <thead>
              <tr>
                <th scope="col">Permission</th>
                <th scope="col">Scope</th>
              </tr>
            </thead>
            <tbody>
              {key.permissions.map((g, i) => (
                <tr key={i} data-testid="grant-row">
                  <td>
                    {label(g.permission)} <code class="perm-name">{g.permission}</code>
                  </td>
                  <td data-testid="grant-scope" data-deleted={scopeDeleted(g.scope) ? "true" : undefined}>
                    {g.scope ? (
                      <>
                        <span class="muted">{g.scope.level}:</span> {g.scope.path ?? g.scope.id}
                        {scopeDeleted(g.scope) && (
                          <span class="badge badge-warn" data-testid="grant-scope-deleted">
                            deleted: allows nothing
                          </span>
                        )}
                      </>
                    ) : (
                      "Whole organization"
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <UsagePanel keyId={key.id} reload={reloads} />

      <section class="section" aria-labelledby="key-activity-title" data-testid="key-activity">
        <h2 id="key-activity-title">
          Activity
        </h2>
        <ActivityList filter={{ key_id: key.id }} reload={reloads} empty="No recorded change of this key yet." />
      </section>

      {dialog === "rotate" && (
        <RotateDialog
          keyData={key}
          onCancel={() => setDialog(null)}
          onRotated={(k) => {
            setDialog(null);
            setRotated(k);
            const { token: _drop, ...rest } = k;
            void _drop;
            setKey(rest);
            setFlashState(null);
          }}
        />
      )}
      {dialog === "delete" && <DeleteDialog keyData={key} onCancel={() => setDialog(null)} />}
      {dialog === "end-grace" && previous && (
        <EndGraceDialog
          keyData={key}
          previous={previous}
          onCancel={() => setDialog(null)}
          onEnded={(message) => {
            setDialog(null);
            setFlashState(message);
            load();
          }}
        />
      )}
      {rotated && (
        <TokenDialog
          token={rotated.token}
          keyId={rotated.id}
          keyName={rotated.name}
          rotated
          previousUntil={rotated.previous_token_expires_at}
          onClose={() => {
            setRotated(null);
            load();
          }}
        />
      )}
    </section>
  );
}

/**
 * Asks before rotating a key, with a grace period for the current token
 * (none, 1 hour, 1 day, 7 days); shows the server's refusal in the dialog.
 * Also used by the key list's row action.
 */
export function RotateDialog({
  keyData,
  onCancel,
  onRotated,
}: {
  keyData: ApiKey;
  onCancel: () => void;
  onRotated: (k: ApiKeyWithToken) => void;
}) {
  const { session } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [grace, setGrace] = useState(0);
  const self = selfWarning("rotate", keyData.id, session.keyId, grace);
  const running = previousToken(keyData, Date.now());
  const rotate = async () => {
    setBusy(true);
    setError(null);
    try {
      onRotated(await session.client.rotateKey(keyData.id, grace));
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Rotate “${keyData.name}”?`} onClose={onCancel} testId="rotate-dialog" initialFocus="[data-testid=cancel-rotate]">
      <p>
        Rotating creates a new token for this key, shown once. {graceOffered(keyData) && <strong data-testid="rotate-consequence">{rotateConsequence(grace)}</strong>}
      </p>
      {!graceOffered(keyData) ? (
        <p class="banner banner-info" data-testid="rotate-no-grace">
          This key was revoked because its token was reported as leaked: that token stays dead, so there is no grace
          period. Rotating makes the key active again with a new token.
        </p>
      ) : (
        <fieldset class="grace-choices" data-testid="grace-choices">
          <legend>Grace period for the current token</legend>
          {GRACE_CHOICES.map((c) => (
            <label key={c.id} class="radio">
              <input
                type="radio"
                name="grace"
                value={String(c.seconds)}
                checked={grace === c.seconds}
                data-testid={`grace-${c.id}`}
                onChange={() => setGrace(c.seconds)}
              />
              {c.label}
            </label>
          ))}
        </fieldset>
      )}
      {running && (
        <p class="banner banner-info" data-testid="rotate-replaces-previous">
          A grace period already runs for the token before this one ({running.hint}): rotating again stops it at once,
          as only one previous token is kept.
        </p>
      )}
      {self && (
        <p class="banner banner-warning" data-testid="rotate-self-warning">
          <strong>{self}</strong>
        </p>
      )}
      {error && (
        <p class="field-error" role="alert" data-testid="rotate-error">
          {error}
        </p>
      )}
      <div class="actions">
        <button type="button" class="button" data-testid="cancel-rotate" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="button button-danger" disabled={busy} data-testid="confirm-rotate" onClick={rotate}>
          {busy ? "Rotating…" : "Rotate key"}
        </button>
      </div>
    </Dialog>
  );
}

/** Asks before ending a grace period: the previous token stops working at once. */
function EndGraceDialog({
  keyData,
  previous,
  onCancel,
  onEnded,
}: {
  keyData: ApiKey;
  previous: PreviousToken;
  onCancel: () => void;
  onEnded: (message: string) => void;
}) {
  const { session } = useSession();
  const end = async () => {
    try {
      await session.client.revokePreviousToken(keyData.id);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
      onEnded("The grace period had already ended: the previous token no longer works.");
      return;
    }
    onEnded(`The previous token (${previous.hint}) of “${keyData.name}” no longer works.`);
  };
  return (
    <ConfirmDialog
      title="End the grace period now?"
      testId="end-grace-dialog"
      name="end-grace"
      confirm="End grace now"
      running="Ending…"
      onCancel={onCancel}
      onConfirm={end}
    >
      <p>
        The previous token <code>{previous.hint}</code> of “{keyData.name}” would work until {formatDate(previous.expiresAt)}.{" "}
        <strong>Ending the grace period stops it at once</strong>: any integration still using it fails. The current
        token is not affected.
      </p>
      {keyData.id === session.keyId && (
        <p class="banner banner-warning">
          <strong>You are signed in with this key: if the dashboard uses the previous token, it signs you out.</strong>
        </p>
      )}
    </ConfirmDialog>
  );
}

/**
 * Asks for the key's name before deleting it; shows the server's refusal
 * (e.g. the organization's last allow-all key) in the dialog. After a delete
 * it calls onDeleted, or else goes to the list with a flash message.
 */
export function DeleteDialog({
  keyData,
  onCancel,
  onDeleted,
}: {
  keyData: ApiKey;
  onCancel: () => void;
  onDeleted?: () => void;
}) {
  const { session } = useSession();
  const [typed, setTyped] = useState("");
  const self = selfWarning("delete", keyData.id, session.keyId);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const matches = typed === keyData.name;
  const remove = async (e: Event) => {
    e.preventDefault();
    if (!matches) {
      setError("Type the key's name exactly to confirm.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await session.client.deleteKey(keyData.id);
      if (onDeleted) {
        onDeleted();
        return;
      }
      setFlash(`API key “${keyData.name}” deleted. Its token no longer works.`);
      navigate(paths.list);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Delete “${keyData.name}”?`} onClose={onCancel} testId="delete-dialog">
      <form onSubmit={remove} noValidate>
        <p>
          Deleting <strong>revokes the key at once</strong>: its token stops working immediately, everywhere. This cannot
          be undone.
        </p>
        {self && (
          <p class="banner banner-warning" data-testid="delete-self-warning">
            <strong>{self}</strong>
          </p>
        )}
        <label class="label" for="delete-confirm-name">
          Type <strong class="mono">{keyData.name}</strong> to confirm
        </label>
        <input
          id="delete-confirm-name"
          class="input"
          autoComplete="off"
          value={typed}
          onInput={(e) => setTyped((e.currentTarget as HTMLInputElement).value)}
          aria-invalid={error ? "true" : undefined}
          aria-describedby={error ? "delete-error" : undefined}
          data-testid="delete-confirm-name"
        />
        {error && (
          <p class="field-error" id="delete-error" role="alert" data-testid="delete-error">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="button" class="button" data-testid="cancel-delete" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" class="button button-danger" disabled={busy || !matches} data-testid="confirm-delete">
            {busy ? "Deleting…" : "Delete key"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
