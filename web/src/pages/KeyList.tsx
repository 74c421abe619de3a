// /dashboard/organizations/api-keys: the key list as a workbench. One line
// per key says what it can do; each row has its actions; search and filters
// live in the URL query with the page cursors (web/src/keylist.ts).
//
// The API has no server-side filters: with no search and no filter, the list
// pages through the server's cursors (PAGE_SIZE keys a page); with any, it
// loads every page up to the organization's key quota and filters here, so
// the answer is complete rather than "matches among the keys loaded".
import { useEffect, useMemo, useState } from "preact/hooks";
import { useSession } from "../app";
import { takeFlash } from "../carry";
import { ErrorBanner, Loading } from "../components/Errors";
import { StatusBadge } from "../components/StatusBadge";
import { TokenDialog } from "../components/TokenDialog";
import { UnreadableBanner } from "../components/UnreadableBanner";
import { formatDate, relative } from "../format";
import {
  FILTERS,
  STATUS_FILTERS,
  applyListState,
  capabilityDetail,
  capabilityLine,
  isNarrowed,
  listStateQuery,
  parseListState,
  type FilterId,
  type ListState,
} from "../keylist";
import { keyActions } from "../keypage";
import { Link, paths, setQuery, useSearch } from "../router";
import { useTitle } from "../title";
import type { ApiKey, ApiKeyWithToken, Catalog, Unreadable } from "../types";
import { mergeUnreadable } from "../unreadable";
import { DeleteDialog, RotateDialog } from "./KeyDetail";
import "./KeyList.css";

const PAGE_SIZE = 20;
/** Pages of 100 read while filtering: the organization's key quota (1000). */
const MAX_FILTER_PAGES = 10;

export function When({ iso, empty = "Never" }: { iso: string | null; empty?: string }) {
  if (!iso) return <span class="muted">{empty}</span>;
  return (
    <time dateTime={iso} title={iso}>
      {formatDate(iso)} <span class="muted">({relative(iso)})</span>
    </time>
  );
}

interface Loaded {
  keys: ApiKey[];
  next: string | null;
  /** While narrowed: more keys exist than were read. */
  truncated: boolean;
  /** What was loaded: every key ("all") or the page of this cursor ("" for the first). */
  source: string;
  /** Stored keys the server could not read on the pages loaded (not in keys). */
  unreadable: Unreadable[];
}

export function KeyList() {
  const { session } = useSession();
  const client = session.client;
  const search = useSearch();
  const state = useMemo(() => parseListState(search), [search]);
  const narrowed = isNarrowed(state);
  const cursor = state.cursors[state.cursors.length - 1] ?? null;
  const [flash, setFlash] = useState(() => takeFlash());
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [reloads, setReloads] = useState(0);
  const [dialog, setDialog] = useState<{ kind: "rotate" | "delete"; key: ApiKey } | null>(null);
  const [rotated, setRotated] = useState<ApiKeyWithToken | null>(null);

  useTitle("API keys");
  useEffect(() => {
    client.permissions().then(setCatalog, () => setCatalog(null));
  }, []);

  useEffect(() => {
    let live = true;
    setError(null);
    const load = async (): Promise<Loaded> => {
      if (!narrowed) {
        const p = await client.listKeys({ limit: PAGE_SIZE, cursor });
        return { keys: p.items ?? [], next: p.next_cursor, truncated: false, source: cursor ?? "", unreadable: mergeUnreadable(p.unreadable) };
      }
      const keys: ApiKey[] = [];
      let unreadable: Unreadable[] = [];
      let next: string | null = null;
      for (let i = 0; i < MAX_FILTER_PAGES; i++) {
        const p = await client.listKeys({ limit: 100, cursor: next });
        keys.push(...(p.items ?? []));
        unreadable = mergeUnreadable(unreadable, p.unreadable);
        next = p.next_cursor;
        if (!next) break;
      }
      return { keys, next: null, truncated: next !== null, source: "all", unreadable };
    };
    load()
      .then((l) => live && setLoaded(l))
      .catch((e) => live && setError(e));
    return () => {
      live = false;
    };
    // While narrowed, typing in the search box filters the keys already read.
  }, [narrowed, narrowed ? "" : cursor, reloads]);

  // Each change starts from the address as it is now, not from the last
  // render: two quick clicks must both count.
  const change = (update: (s: ListState) => ListState, replace = true) =>
    setQuery(listStateQuery(update(parseListState(window.location.search))), { replace });
  const toggle = (f: FilterId, on: boolean) =>
    change((s) => ({ ...s, filters: on ? [...s.filters, f] : s.filters.filter((x) => x !== f) }));
  const reload = () => setReloads((n) => n + 1);

  // The keys read may be those of the previous state until the new ones arrive:
  // the controls stay (focus stays in the search box), the table waits.
  const current = loaded && loaded.source === (narrowed ? "all" : (cursor ?? "")) ? loaded : null;
  const shown = useMemo(
    () => (current ? (narrowed ? applyListState(current.keys, state, Date.now()) : current.keys) : []),
    [current, state, narrowed],
  );
  const firstPageEmpty = current && !narrowed && current.keys.length === 0 && state.cursors.length === 0;

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>API keys</h1>
        <Link href={paths.create} class="button button-primary" data-testid="create-key">
          Create API key
        </Link>
      </div>
      <p class="lead">
        API keys let the CLI, SDKs, CI pipelines and other integrations act on behalf of your organization. Give each
        integration its own key, with the fewest permissions it needs and an expiry.
      </p>
      {flash && (
        <p class="banner banner-success" role="status" data-testid="flash">
          {flash}
        </p>
      )}
      <ErrorBanner error={error} />
      {current && <UnreadableBanner items={current.unreadable} kind="key" />}
      {firstPageEmpty && (
        <div class="empty" data-testid="empty-state">
          <h2>No API keys yet</h2>
          <p>
            Create a key for each integration that needs to talk to DotEnv: a CI pipeline pulling secrets, the CLI on a
            build machine, an SDK in a service. Start from the read-only preset when you can, scope it to the projects
            or environments it needs, and set an expiry.
          </p>
          <Link href={paths.create} class="button button-primary" data-testid="empty-create-key">
            Create your first API key
          </Link>
        </div>
      )}
      {(loaded || narrowed) && !firstPageEmpty && (
        <ListControls state={state} onSearch={(q) => change((s) => ({ ...s, q }))} onToggle={toggle} />
      )}
      {/* Below the controls, so that they do not move while keys load. */}
      {!current && !error && <Loading what="API keys" />}
      {current && !firstPageEmpty && (
        <>
          {narrowed && (
            <p class="muted list-count" role="status" data-testid="match-count">
              {shown.length === 1 ? "1 key matches" : `${shown.length} keys match`} of {current.keys.length}
              {current.truncated &&
                ` (filters apply to the first ${current.keys.length} keys only: more exist than the organization's quota)`}
              .
            </p>
          )}
          {shown.length === 0 ? (
            <div class="empty" data-testid="no-match">
              <p>No API key matches{state.q.trim() ? ` “${state.q.trim()}”` : ""} with these filters.</p>
              <button type="button" class="button" data-testid="clear-filters" onClick={() => change((s) => ({ ...s, q: "", filters: [] }))}>
                Clear search and filters
              </button>
            </div>
          ) : (
            <KeyTable
              keys={shown}
              catalog={catalog}
              caption={`API keys of ${session.organizationName}`}
              signedIn={session.keyId}
              onRotate={(key) => setDialog({ kind: "rotate", key })}
              onDelete={(key) => setDialog({ kind: "delete", key })}
            />
          )}
          {!narrowed && (state.cursors.length > 0 || current.next) && (
            <nav class="pager" aria-label="Pages of API keys">
              <button
                type="button"
                class="button"
                disabled={state.cursors.length === 0}
                data-testid="page-prev"
                onClick={() => change((s) => ({ ...s, cursors: s.cursors.slice(0, -1) }), false)}
              >
                Previous
              </button>
              <span class="muted" data-testid="page-number">
                Page {state.cursors.length + 1}
              </span>
              <button
                type="button"
                class="button"
                disabled={!current.next}
                data-testid="page-next"
                onClick={() => {
                  const next = current.next;
                  if (next) change((s) => ({ ...s, cursors: [...s.cursors, next] }), false);
                }}
              >
                Next
              </button>
            </nav>
          )}
        </>
      )}
      {dialog?.kind === "rotate" && (
        <RotateDialog
          keyData={dialog.key}
          onCancel={() => setDialog(null)}
          onRotated={(k) => {
            setDialog(null);
            setFlash(null);
            setRotated(k);
          }}
        />
      )}
      {dialog?.kind === "delete" && (
        <DeleteDialog
          keyData={dialog.key}
          onCancel={() => setDialog(null)}
          onDeleted={() => {
            setFlash(`API key “${dialog.key.name}” deleted. Its token no longer works.`);
            setDialog(null);
            reload();
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
            reload();
          }}
        />
      )}
    </section>
  );
}

function ListControls({
  state,
  onSearch,
  onToggle,
}: {
  state: ListState;
  onSearch: (q: string) => void;
  onToggle: (f: FilterId, on: boolean) => void;
}) {
  const box = (f: (typeof FILTERS)[number]) => (
    <label class="filter-chip" key={f.id}>
      <input
        type="checkbox"
        checked={state.filters.includes(f.id)}
        data-testid={`filter-${f.id}`}
        onChange={(e) => onToggle(f.id, (e.currentTarget as HTMLInputElement).checked)}
      />
      {f.label}
    </label>
  );
  return (
    <div class="list-controls" data-testid="list-controls">
      <div class="list-search">
        <label class="label" for="key-search">
          Search by name
        </label>
        <input
          id="key-search"
          type="search"
          class="input"
          autoComplete="off"
          value={state.q}
          data-testid="key-search"
          onInput={(e) => onSearch((e.currentTarget as HTMLInputElement).value)}
        />
      </div>
      <fieldset class="filter-group">
        <legend>Status (any of)</legend>
        {FILTERS.filter((f) => STATUS_FILTERS.includes(f.id)).map(box)}
      </fieldset>
      <fieldset class="filter-group">
        <legend>Only keys that (all of)</legend>
        {FILTERS.filter((f) => !STATUS_FILTERS.includes(f.id)).map(box)}
      </fieldset>
    </div>
  );
}

function KeyTable({
  keys,
  catalog,
  caption,
  signedIn,
  onRotate,
  onDelete,
}: {
  keys: ApiKey[];
  catalog: Catalog | null;
  caption: string;
  signedIn: string;
  onRotate: (k: ApiKey) => void;
  onDelete: (k: ApiKey) => void;
}) {
  return (
    <div class="table-wrap">
      <table class="table key-table" data-testid="key-table">
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Can do</th>
            <th scope="col">Status</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id} data-testid="key-row" data-key-id={k.id} data-key-name={k.name}>
              <th scope="row">
                <Link href={paths.key(k.id)} data-testid="key-link">
                  {k.name}
                </Link>
                {k.id === signedIn && <span class="badge">Signed in</span>}
              </th>
              <td class="can-do" data-label="Can do" data-testid="key-can-do" title={capabilityDetail(k, catalog)}>
                {k.allow_all ? <span class="badge badge-warn">{capabilityLine(k, catalog)}</span> : capabilityLine(k, catalog)}
              </td>
              <td data-label="Status">
                <StatusBadge status={k.status} />
              </td>
              <td data-label="Expires">
                <When iso={k.expires_at} />
              </td>
              <td data-label="Last used">
                <When iso={k.last_used_at} empty="Not used yet" />
              </td>
              <td data-label="Actions" class="row-actions-cell">
                <div class="row-actions">
                  <Link href={paths.key(k.id)} class="button button-small" aria-label={`Show ${k.name}`} data-testid="row-show">
                    Show
                  </Link>
                  {keyActions(k).edit && (
                    <Link href={paths.edit(k.id)} class="button button-small" aria-label={`Edit ${k.name}`} data-testid="row-edit">
                      Edit
                    </Link>
                  )}
                  {keyActions(k).rotate && (
                    <button
                      type="button"
                      class="button button-small"
                      aria-label={`Rotate ${k.name}`}
                      data-testid="row-rotate"
                      onClick={() => onRotate(k)}
                    >
                      Rotate
                    </button>
                  )}
                  {keyActions(k).explore && (
                    <Link
                      href={paths.explore(k.id)}
                      class="button button-small"
                      aria-label={`Explore ${k.name}`}
                      data-testid="row-explore"
                    >
                      Explore
                    </Link>
                  )}
                  <button
                    type="button"
                    class="button button-small button-danger"
                    aria-label={`Delete ${k.name}`}
                    data-testid="row-delete"
                    onClick={() => onDelete(k)}
                  >
                    Delete
                  </button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
