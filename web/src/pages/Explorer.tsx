// /dashboard/organizations/api-keys/{id}/explore: make real calls with a key's
// token through POST /v1/api-keys/{id}/explore. The token stays in this
// page's memory (carried from the token dialog, or pasted), never stored.
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError } from "../api";
import { useSession } from "../app";
import { takeToken } from "../carry";
import { CanCheck } from "../components/CanCheck";
import { CopyButton } from "../components/CopyButton";
import { Dialog } from "../components/Dialog";
import { ErrorBanner, FieldError, Loading } from "../components/Errors";
import { loadDirectory, type Directory } from "../directory";
import { withArticle } from "../grammar";
import {
  candidates,
  defaultValues,
  estimateAccess,
  hiddenCell,
  hiddenLabel,
  hiddenReason,
  fillPath,
  isDestructive,
  isLevel,
  networkText,
  parseBody,
  parseHeaders,
  placeholders,
  pretty,
  routeAccess,
} from "../explorer";
import { nodeLabel } from "../keypage";
import { Link, paths } from "../router";
import { LEVEL_LABEL, groupOf } from "../rules";
import { useTitle } from "../title";
import type { ApiKey, Catalog, CatalogRoute, ExploreAccess, ExploreResult } from "../types";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const SNIPPETS = [
  ["curl", "curl"],
  ["go", "Go"],
  ["javascript", "JavaScript"],
  ["python", "Python"],
] as const;
type SnippetLang = (typeof SNIPPETS)[number][0];

const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  204: "No Content",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  412: "Precondition Failed",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

function headerList(h: Record<string, string | string[]> | undefined): [string, string][] {
  return Object.entries(h ?? {})
    .map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)] as [string, string])
    .sort((a, b) => (a[0].toLowerCase() < b[0].toLowerCase() ? -1 : 1));
}

function routeLabel(r: CatalogRoute): string {
  return `${r.method} ${r.path} (${r.operation})`;
}

export function Explorer({ id }: { id: string }) {
  const { session } = useSession();
  const client = session.client;
  const [carried] = useState(() => takeToken(id));
  const [token, setToken] = useState(carried ?? "");
  const [key, setKey] = useState<ApiKey | null>(null);
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [dir, setDir] = useState<Directory | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  useTitle("Explorer", key?.name, "API key");

  const [operation, setOperation] = useState("");
  const [values, setValues] = useState<Record<string, string>>({});
  const [method, setMethod] = useState("GET");
  const [path, setPath] = useState("/v1/organization");
  const [headersText, setHeadersText] = useState("");
  const [bodyText, setBodyText] = useState("");

  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState<ExploreResult | null>(null);
  const [lang, setLang] = useState<SnippetLang>("curl");
  const [accessGroup, setAccessGroup] = useState("");

  useEffect(() => {
    let live = true;
    Promise.all([client.getKey(id), client.permissions()])
      .then(([k, c]) => {
        if (!live) return;
        setKey(k.key);
        setCatalog(c);
        const first = c.routes.find((r) => r.method === "GET" && placeholders(r.path).length === 0) ?? c.routes[0];
        if (first) {
          setOperation(first.operation);
          setMethod(first.method);
          setPath(first.path);
          setAccessGroup(first.permission ? groupOf(first.permission) : (c.groups[0]?.name ?? ""));
        }
      })
      .catch((e) => live && setLoadError(e));
    loadDirectory(client).then((d) => live && setDir(d));
    return () => {
      live = false;
    };
  }, [id]);

  const route = catalog?.routes.find((r) => r.operation === operation) ?? null;

  // Once the directory arrives, fill the chosen route's placeholders.
  useEffect(() => {
    if (!dir || !route) return;
    const v = defaultValues(dir, route.path, values, id);
    setValues(v);
    setPath(fillPath(route.path, v));
  }, [dir]);

  // The server's map (after a call) wins; pairs it does not list are filled
  // in from the key's grants so every route can be judged.
  const access: ExploreAccess[] = useMemo(() => {
    const estimated = key && catalog && dir ? estimateAccess(key, catalog, dir) : [];
    const server = result?.access ?? [];
    if (server.length === 0) return estimated;
    const seen = new Set(server.map((a) => `${a.permission}@${a.node.id}`));
    const perms = new Set(server.map((a) => a.permission));
    return [...server, ...estimated.filter((a) => !perms.has(a.permission) && !seen.has(`${a.permission}@${a.node.id}`))];
  }, [result, key, catalog, dir]);

  if (loadError)
    return (
      <section>
        <h1 tabIndex={-1}>API Explorer</h1>
        <ErrorBanner error={loadError} />
        <Link href={paths.list}>Back to API keys</Link>
      </section>
    );
  if (!key || !catalog) return <Loading what="the API Explorer" />;

  const chooseRoute = (op: string) => {
    setOperation(op);
    const r = catalog.routes.find((x) => x.operation === op);
    if (!r) return;
    const v = dir ? defaultValues(dir, r.path, values, id) : defaultValues({ nodes: [], byId: new Map(), partial: false }, r.path, values, id);
    setValues(v);
    setMethod(r.method);
    setPath(fillPath(r.path, v));
    if (r.permission) setAccessGroup(groupOf(r.permission));
    setFieldErrors({});
  };

  const setParam = (name: string, value: string) => {
    if (!route) return;
    const v = dir ? defaultValues(dir, route.path, { ...values, [name]: value }, id) : { ...values, [name]: value };
    v[name] = value;
    setValues(v);
    setPath(fillPath(route.path, v));
  };

  const validate = () => {
    const errs: Record<string, string> = {};
    if (!token.trim()) errs.token = "Paste the token of this key (it was shown once when the key was created or rotated).";
    if (!path.startsWith("/")) errs.path = "The path starts with / (for example /v1/projects).";
    else if (/\{[a-zA-Z_]+\}/.test(path)) errs.path = "Fill in the {placeholders} of the path.";
    const h = parseHeaders(headersText);
    if (h.error) errs.headers = h.error;
    const b = parseBody(bodyText);
    if (b.error) errs.body = b.error;
    return { errs, headers: h.headers, body: b.body };
  };

  const send = async (confirmed: boolean) => {
    const { errs, headers, body } = validate();
    setFieldErrors(errs);
    setError(null);
    if (Object.keys(errs).length) {
      // The previous answer belongs to another request: do not leave it on screen.
      setResult(null);
      window.setTimeout(() => document.querySelector<HTMLElement>('main [aria-invalid="true"]')?.focus(), 0);
      return;
    }
    if (!confirmed && isDestructive(method, path, route && fillPath(route.path, values) === path ? route.permission : "")) {
      setConfirming(true);
      return;
    }
    setConfirming(false);
    setBusy(true);
    try {
      const r = await client.explore(id, { token: token.trim(), method, path, headers, body });
      setResult(r);
    } catch (e) {
      if (e instanceof ApiError) {
        const fe: Record<string, string> = {};
        for (const f of e.fieldErrors()) {
          const k = ["token", "method", "path", "headers", "body"].find((x) => f.field === x || f.field.startsWith(`${x}.`));
          if (k) fe[k] = fe[k] ? `${fe[k]} ${f.message}` : f.message;
        }
        if (e.status === 403 && Object.keys(fe).length === 0 && e.problem.detail?.toLowerCase().includes("token")) {
          fe.token = e.problem.detail;
        }
        setFieldErrors(fe);
      }
      setResult(null);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const status = result?.response.status ?? 0;
  const statusClass = status >= 500 ? "s5" : status >= 400 ? "s4" : status >= 300 ? "s3" : "s2";
  const thisRouteAccess = route ? routeAccess(route, access, values) : null;
  const accessPerms = catalog.groups.find((g) => g.name === accessGroup)?.permissions ?? [];
  const nodes = [...new Map(access.map((a) => [a.node.id, a.node])).values()];
  // Levels the key may not list: the server counts them, never names them.
  const hidden = result?.access_hidden ?? [];

  return (
    <section class="explorer">
      <p class="crumbs">
        <Link href={paths.list}>API keys</Link> / <Link href={paths.key(key.id)}>{key.name}</Link> /
      </p>
      <h1 tabIndex={-1}>API Explorer</h1>
      <p class="lead">
        Make real calls to the DotEnv API with the token of <strong>{key.name}</strong> (<code>{key.token_hint}</code>) to
        check that its permissions and scopes behave as you expect. Calls really happen: writes and deletes change data.
      </p>

      <form
        class="explorer-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void send(false);
        }}
        data-testid="explorer-form"
      >
        <div class="field">
          <label class="label" for="explorer-token">
            Token of this key
          </label>
          <input
            id="explorer-token"
            class="input mono"
            type="password"
            autoComplete="off"
            spellcheck={false}
            value={token}
            onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
            aria-invalid={fieldErrors.token ? "true" : undefined}
            aria-describedby={fieldErrors.token ? "explorer-token-error explorer-token-hint" : "explorer-token-hint"}
            data-testid="explorer-token"
          />
          <p class="hint" id="explorer-token-hint">
            {carried ? "Carried over from the token dialog. " : ""}
            Kept in this page's memory only: leaving the page forgets it. It must be this key's token.
          </p>
          <FieldError id="explorer-token-error" message={fieldErrors.token} />
        </div>

        <div class="field">
          <label class="label" for="explorer-route">
            Route
          </label>
          <select
            id="explorer-route"
            class="select"
            value={operation}
            onChange={(e) => chooseRoute((e.currentTarget as HTMLSelectElement).value)}
            data-testid="explorer-route"
            aria-describedby="explorer-route-access"
          >
            <option value="">Custom request (type method and path)</option>
            {catalog.routes.map((r) => {
              const a = routeAccess(r, access, r.operation === operation ? values : {});
              return (
                <option key={r.operation} value={r.operation} class={a.allowed ? "" : "denied"}>
                  {routeLabel(r)}
                  {a.allowed ? "" : ` (not allowed: needs ${a.missing})`}
                </option>
              );
            })}
          </select>
          <p id="explorer-route-access" class="hint" data-testid="explorer-route-access">
            {thisRouteAccess && !thisRouteAccess.allowed
              ? `This key cannot call this route here: it lacks ${thisRouteAccess.missing}. Send it anyway to see the answer.`
              : route
                ? route.permission
                  ? `Needs ${route.permission}.`
                  : "Any valid token may call this route."
                : ""}
          </p>
        </div>

        {route && placeholders(route.path).length > 0 && (
          <div class="params">
            {placeholders(route.path).map((name) =>
              isLevel(name) ? (
                <div class="field-inline" key={name}>
                  <label class="label-small" for={`explorer-param-${name}`}>
                    {LEVEL_LABEL[name]}
                  </label>
                  <select
                    id={`explorer-param-${name}`}
                    class="select"
                    value={values[name] ?? ""}
                    onChange={(e) => setParam(name, (e.currentTarget as HTMLSelectElement).value)}
                    data-testid={`explorer-param-${name}`}
                  >
                    <option value="">Choose {withArticle(name)}…</option>
                    {dir &&
                      candidates(dir, name, values).map((n) => (
                        <option key={n.id} value={n.id}>
                          {n.path}
                        </option>
                      ))}
                  </select>
                </div>
              ) : (
                <div class="field-inline" key={name}>
                  <label class="label-small" for={`explorer-param-${name}`}>
                    {name}
                  </label>
                  <input
                    id={`explorer-param-${name}`}
                    class="input mono"
                    value={values[name] ?? ""}
                    onInput={(e) => setParam(name, (e.currentTarget as HTMLInputElement).value)}
                    data-testid={`explorer-param-${name}`}
                  />
                </div>
              ),
            )}
          </div>
        )}

        <div class="request-line">
          <div class="field-inline">
            <label class="label-small" for="explorer-method">
              Method
            </label>
            <select
              id="explorer-method"
              class="select"
              value={method}
              onChange={(e) => {
                setMethod((e.currentTarget as HTMLSelectElement).value);
                setOperation("");
              }}
              data-testid="explorer-method"
            >
              {METHODS.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </div>
          <div class="field-inline grow">
            <label class="label-small" for="explorer-path">
              Path
            </label>
            <input
              id="explorer-path"
              class="input mono"
              value={path}
              spellcheck={false}
              autoComplete="off"
              onInput={(e) => {
                setPath((e.currentTarget as HTMLInputElement).value);
                setOperation("");
              }}
              aria-invalid={fieldErrors.path ? "true" : undefined}
              aria-describedby={fieldErrors.path ? "explorer-path-error" : undefined}
              data-testid="explorer-path"
            />
          </div>
        </div>
        <FieldError id="explorer-path-error" message={fieldErrors.path} />
        <FieldError id="explorer-method-error" message={fieldErrors.method} />

        <div class="two">
          <div class="field">
            <label class="label" for="explorer-body">
              JSON body (optional)
            </label>
            <textarea
              id="explorer-body"
              class="input mono"
              rows={6}
              spellcheck={false}
              value={bodyText}
              placeholder='{"name": "staging"}'
              onInput={(e) => setBodyText((e.currentTarget as HTMLTextAreaElement).value)}
              aria-invalid={fieldErrors.body ? "true" : undefined}
              aria-describedby={fieldErrors.body ? "explorer-body-error" : undefined}
              data-testid="explorer-body"
            />
            <FieldError id="explorer-body-error" message={fieldErrors.body} />
          </div>
          <div class="field">
            <label class="label" for="explorer-headers">
              Extra headers (optional, one “Name: value” per line)
            </label>
            <textarea
              id="explorer-headers"
              class="input mono"
              rows={6}
              spellcheck={false}
              value={headersText}
              onInput={(e) => setHeadersText((e.currentTarget as HTMLTextAreaElement).value)}
              aria-invalid={fieldErrors.headers ? "true" : undefined}
              aria-describedby={fieldErrors.headers ? "explorer-headers-error" : undefined}
              data-testid="explorer-headers"
            />
            <FieldError id="explorer-headers-error" message={fieldErrors.headers} />
          </div>
        </div>
        <div class="actions">
          <button type="submit" class="button button-primary" disabled={busy} data-testid="explorer-send">
            {busy ? "Sending…" : "Send request"}
          </button>
        </div>
      </form>

      <ErrorBanner error={error} testId="explorer-error" />

      <CanCheck
        client={client}
        catalog={catalog}
        dir={dir}
        keyId={key.id}
        orgId={key.organization_id}
        orgName={session.organizationName}
        token={token}
      />

      {result && (
        <section class="result" aria-labelledby="result-title" data-testid="explorer-result">
          <h2 id="result-title">Response</h2>
          <p class="status-line">
            <span class={`status ${statusClass}`} data-testid="explorer-status" data-status={status}>
              {status} {REASONS[status] ?? ""}
            </span>
            <span class="muted" data-testid="explorer-duration">
              {result.duration_ms} ms
            </span>
            <span class="muted mono">
              {result.request.method} {result.request.path}
            </span>
          </p>
          {result.network &&
            (() => {
              const n = networkText(result.network, key.allowed_cidrs ?? []);
              return (
                <p
                  class={n.allowed ? "network-line" : "network-line banner banner-warning"}
                  data-testid="explorer-network"
                  data-allowed={String(n.allowed)}
                >
                  <strong>Network:</strong> {n.text}
                </p>
              );
            })()}
          <details>
            <summary>Response headers ({headerList(result.response.headers).length})</summary>
            <table class="table compact" data-testid="explorer-response-headers">
              <tbody>
                {headerList(result.response.headers).map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row">{k}</th>
                    <td class="mono">{v}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
          <h3>Body</h3>
          <pre class="code" data-testid="explorer-response-body" tabIndex={0}>
            {pretty(result.response.body) || "(empty)"}
          </pre>

          <h3>Snippets</h3>
          <p class="hint">The snippets use a placeholder for the token, never the token itself.</p>
          <div role="tablist" aria-label="Snippet language" class="tabs">
            {SNIPPETS.map(([k, label]) => (
              <button
                key={k}
                type="button"
                role="tab"
                id={`snippet-tab-${k}`}
                aria-selected={lang === k}
                aria-controls="snippet-panel"
                class={lang === k ? "tab tab-on" : "tab"}
                onClick={() => setLang(k)}
                data-testid={`snippet-tab-${k}`}
              >
                {label}
              </button>
            ))}
          </div>
          <div id="snippet-panel" role="tabpanel" aria-labelledby={`snippet-tab-${lang}`}>
            <pre class="code" data-testid="explorer-snippet" tabIndex={0}>
              {result.snippets?.[lang] ?? ""}
            </pre>
            <CopyButton text={result.snippets?.[lang] ?? ""} label="Copy snippet" testId="copy-snippet" />
          </div>
        </section>
      )}

      <section class="access" aria-labelledby="access-title">
        <h2 id="access-title">What this key can do</h2>
        <p class="hint">
          {result?.access?.length
            ? hidden.length
              ? "From the server, as of the last call. Nodes this key may not list are counted, not named."
              : "From the server, as of the last call."
            : "Worked out from the key's grants; the server's answer replaces it after your first call."}
        </p>
        <h3>Routes</h3>
        <div class="table-wrap">
          <table class="table compact" data-testid="route-table">
            <thead>
              <tr>
                <th scope="col">Route</th>
                <th scope="col">Permission</th>
                <th scope="col">Access</th>
              </tr>
            </thead>
            <tbody>
              {catalog.routes.map((r) => {
                const a = routeAccess(r, access, r.operation === operation ? values : {});
                return (
                  <tr
                    key={r.operation}
                    class={a.allowed ? "" : "route-denied"}
                    data-testid={`route-row-${r.operation}`}
                    data-allowed={a.allowed ? "true" : "false"}
                  >
                    <td>
                      <button type="button" class="button-link mono" onClick={() => chooseRoute(r.operation)}>
                        {r.method} {r.path}
                      </button>
                    </td>
                    <td>
                      <code>{r.permission || "any valid token"}</code>
                    </td>
                    <td>{a.allowed ? "Allowed" : `Not allowed: missing ${a.missing}`}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>

        <h3>Access map</h3>
        <div class="field-inline">
          <label class="label-small" for="access-group">
            Permission group
          </label>
          <select
            id="access-group"
            class="select"
            value={accessGroup}
            onChange={(e) => setAccessGroup((e.currentTarget as HTMLSelectElement).value)}
            data-testid="access-group"
          >
            {catalog.groups.map((g) => (
              <option key={g.name} value={g.name}>
                {g.label}
              </option>
            ))}
          </select>
        </div>
        <div class="table-wrap">
          <table class="table compact access-map" data-testid="access-map">
            <thead>
              <tr>
                <th scope="col">Where</th>
                {accessPerms.map((p) => (
                  <th scope="col" key={p.name}>
                    <code>{p.name}</code>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {nodes.map((n) => (
                <tr key={n.id}>
                  <th scope="row" data-testid="access-node">
                    {n.level !== "organization" && <span class="muted">{n.level}</span>} {nodeLabel(n, session.organizationName)}
                  </th>
                  {accessPerms.map((p) => {
                    const a = access.find((x) => x.permission === p.name && x.node.id === n.id);
                    if (!a)
                      return (
                        <td key={p.name} class="na">
                          <span aria-hidden="true">·</span>
                          <span class="sr-only">not applicable</span>
                        </td>
                      );
                    return (
                      <td
                        key={p.name}
                        class={a.allowed ? "yes" : "no"}
                        data-testid="access-cell"
                        data-permission={p.name}
                        data-node={n.id}
                        data-allowed={a.allowed ? "true" : "false"}
                      >
                        <span aria-hidden="true">{a.allowed ? "✓" : "✗"}</span>
                        <span class="sr-only">{a.allowed ? "allowed" : "not allowed"}</span>
                      </td>
                    );
                  })}
                </tr>
              ))}
              {hidden.map((h) => (
                <tr key={`hidden-${h.level}`} class="access-hidden" data-testid="access-hidden" data-level={h.level}>
                  <th scope="row">
                    <span class="muted">{h.level}</span> {hiddenLabel(h)}
                    <span class="hint-inline">{hiddenReason(h)}</span>
                  </th>
                  {accessPerms.map((p) => {
                    const c = hiddenCell(h, p.name);
                    if (!c)
                      return (
                        <td key={p.name} class="na">
                          <span aria-hidden="true">·</span>
                          <span class="sr-only">not applicable</span>
                        </td>
                      );
                    return (
                      <td key={p.name} class={c.state} data-testid="access-hidden-cell" data-permission={p.name} data-state={c.state}>
                        <span aria-hidden="true">{c.state === "yes" ? "✓" : c.state === "no" ? "✗" : c.label.replace("allowed on ", "")}</span>
                        <span class="sr-only">{c.label}</span>
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      {confirming && (
        <Dialog title="Send a destructive request?" onClose={() => setConfirming(false)} testId="confirm-send-dialog" initialFocus="[data-testid=cancel-send]">
          <p>
            <strong class="mono">
              {method} {path}
            </strong>{" "}
            really runs with this key's token: it can delete, rotate or purge data, and cannot be undone.
          </p>
          <div class="actions">
            <button type="button" class="button" data-testid="cancel-send" onClick={() => setConfirming(false)}>
              Cancel
            </button>
            <button type="button" class="button button-danger" data-testid="confirm-send" onClick={() => void send(true)}>
              Send it
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}
