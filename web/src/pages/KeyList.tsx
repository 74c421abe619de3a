import { useEffect, useState } from "preact/hooks";
import { useSession } from "../app";
import { takeFlash } from "../carry";
import { CreatedBy } from "../components/CreatedBy";
import { ErrorBanner, Loading } from "../components/Errors";
import { StatusBadge } from "../components/StatusBadge";
import { formatDate, relative } from "../format";
import { Link, paths } from "../router";
import type { ApiKey, Page } from "../types";

const PAGE_SIZE = 20;

export function When({ iso, empty = "Never" }: { iso: string | null; empty?: string }) {
  if (!iso) return <span class="muted">{empty}</span>;
  return (
    <time dateTime={iso} title={iso}>
      {formatDate(iso)} <span class="muted">({relative(iso)})</span>
    </time>
  );
}

export function KeyList() {
  const { session } = useSession();
  const [flash] = useState(() => takeFlash());
  // cursors[i] is the cursor that loads page i (null for the first page).
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<Page<ApiKey> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const index = cursors.length - 1;

  useEffect(() => {
    let live = true;
    setPage(null);
    setError(null);
    session.client
      .listKeys({ limit: PAGE_SIZE, cursor: cursors[index] })
      .then((p) => live && setPage(p))
      .catch((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [cursors]);

  const names = new Map(page?.items.map((k) => [k.id, k.name]) ?? []);
  names.set(session.keyId, session.keyName);

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
      {!page && !error && <Loading what="API keys" />}
      {page && page.items.length === 0 && index === 0 && (
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
      {page && (page.items.length > 0 || index > 0) && (
        <>
          <div class="table-wrap">
            <table class="table" data-testid="key-table">
              <caption class="sr-only">API keys of {session.organizationName}</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Token</th>
                  <th scope="col">Status</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Created</th>
                  <th scope="col">Created by</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((k) => (
                  <tr key={k.id} data-testid="key-row" data-key-id={k.id}>
                    <th scope="row">
                      <Link href={paths.key(k.id)} data-testid="key-link">
                        {k.name}
                      </Link>
                      {k.allow_all && <span class="badge badge-warn">Allow all</span>}
                    </th>
                    <td>
                      <code>{k.token_hint}</code>
                    </td>
                    <td>
                      <StatusBadge status={k.status} />
                    </td>
                    <td>
                      <When iso={k.expires_at} />
                    </td>
                    <td>
                      <When iso={k.last_used_at} empty="Not used yet" />
                    </td>
                    <td>
                      <When iso={k.created_at} empty="" />
                    </td>
                    <td>
                      <CreatedBy createdBy={k.created_by} names={names} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label="Pages of API keys">
            <button
              type="button"
              class="button"
              disabled={index === 0}
              data-testid="page-prev"
              onClick={() => setCursors(cursors.slice(0, -1))}
            >
              Previous
            </button>
            <span class="muted">Page {index + 1}</span>
            <button
              type="button"
              class="button"
              disabled={!page.next_cursor}
              data-testid="page-next"
              onClick={() => page.next_cursor && setCursors([...cursors, page.next_cursor])}
            >
              Next
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
