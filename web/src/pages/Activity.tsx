// /dashboard/organizations/api-keys/activity: the organization's audit trail
// (GET /v1/audit-events), filtered by action, key and time, the filters kept
// in the address (web/src/audit.ts), with exports of the same selection as
// NDJSON and CSV read with the bearer token in a header and saved from a Blob
// (the token never goes into an address).
import { useEffect, useMemo, useState } from "preact/hooks";
import { listAll } from "../api";
import { useSession } from "../app";
import {
  AUDIT_ACTIONS,
  EMPTY_AUDIT_STATE,
  actionLabel,
  auditFilter,
  auditStateQuery,
  exportFileName,
  isoToLocal,
  localToIso,
  parseAuditState,
  validateAuditState,
  type AuditState,
} from "../audit";
import { ActivityList } from "../components/ActivityList";
import { FieldError, errorText } from "../components/Errors";
import { setQuery, useSearch } from "../router";
import { useTitle } from "../title";
import type { ApiKey } from "../types";
import "../components/Activity.css";

/** The filter fields as typed: the times are datetime-local values (local time). */
type Draft = AuditState;

const toDraft = (s: AuditState): Draft => ({ ...s, since: isoToLocal(s.since) || s.since, until: isoToLocal(s.until) || s.until });

export function ActivityPage() {
  const { session } = useSession();
  const search = useSearch();
  const state = useMemo(() => parseAuditState(search), [search]);
  const [draft, setDraft] = useState<Draft>(() => toDraft(state));
  const [errors, setErrors] = useState<Partial<Record<keyof AuditState, string>>>({});
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [exporting, setExporting] = useState<"" | "ndjson" | "csv">("");
  const [exported, setExported] = useState<{ ok: boolean; text: string } | null>(null);
  useTitle("Activity");

  // Back and forward change the address: the fields follow it.
  useEffect(() => {
    setDraft(toDraft(state));
    setErrors({});
  }, [search]);
  useEffect(() => {
    listAll((l) => session.client.listKeys(l), 10).then(setKeys, () => setKeys([]));
  }, []);

  const set = (k: keyof Draft, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const apply = (e: Event) => {
    e.preventDefault();
    const next: AuditState = {
      ...draft,
      since: draft.since ? (localToIso(draft.since) ?? "invalid") : "",
      until: draft.until ? (localToIso(draft.until) ?? "invalid") : "",
    };
    const errs = validateAuditState(next);
    setErrors(errs);
    if (Object.keys(errs).length) {
      const first = Object.keys(errs)[0];
      document.getElementById(`activity-${first.replace("_", "-")}`)?.focus();
      return;
    }
    setQuery(auditStateQuery(next));
  };
  const clear = () => setQuery(auditStateQuery(EMPTY_AUDIT_STATE));

  const download = async (format: "ndjson" | "csv") => {
    setExporting(format);
    setExported(null);
    try {
      const blob = await session.client.exportAuditEvents(auditFilter(state), format);
      const name = exportFileName(format, new Date());
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = name;
      a.className = "offscreen";
      document.body.appendChild(a);
      a.click();
      a.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 1000);
      setExported({ ok: true, text: `Saved ${name} (${blob.size} bytes).` });
    } catch (e) {
      setExported({ ok: false, text: `The export failed: ${errorText(e)}` });
    } finally {
      setExporting("");
    }
  };

  const keyOptions = useMemo(() => {
    const opts = keys.map((k) => ({ id: k.id, name: k.name }));
    // A key of the address that no longer exists (deleted) stays selectable by its id.
    if (state.key_id && !opts.some((o) => o.id === state.key_id)) opts.push({ id: state.key_id, name: `${state.key_id} (deleted or not listed)` });
    return opts;
  }, [keys, state.key_id]);
  const filtered = auditStateQuery(state) !== "";

  return (
    <section>
      <h1 tabIndex={-1}>Activity</h1>
      <p class="lead">
        Every change to the organization's API keys and directory: who made it, when, from where and what changed.
      </p>
      <form class="section" onSubmit={apply} noValidate data-testid="activity-filters" aria-label="Filter the activity">
        <div class="activity-filters">
          <div>
            <label class="label" for="activity-action">
              Action
            </label>
            <select
              id="activity-action"
              class="select"
              value={draft.action}
              data-testid="activity-action"
              onChange={(e) => set("action", (e.currentTarget as HTMLSelectElement).value)}
            >
              <option value="">Any action</option>
              {(AUDIT_ACTIONS.includes(draft.action) || !draft.action ? AUDIT_ACTIONS : [...AUDIT_ACTIONS, draft.action]).map((a) => (
                <option key={a} value={a}>
                  {actionLabel(a)}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label class="label" for="activity-key-id">
              API key
            </label>
            <select
              id="activity-key-id"
              class="select"
              value={draft.key_id}
              data-testid="activity-key"
              onChange={(e) => set("key_id", (e.currentTarget as HTMLSelectElement).value)}
            >
              <option value="">Any key</option>
              {keyOptions.map((k) => (
                <option key={k.id} value={k.id}>
                  {k.name}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label class="label" for="activity-since">
              Since
            </label>
            <input
              id="activity-since"
              type="datetime-local"
              class="input"
              value={draft.since}
              aria-invalid={errors.since ? "true" : undefined}
              aria-describedby={errors.since ? "activity-since-error" : undefined}
              data-testid="activity-since"
              onInput={(e) => set("since", (e.currentTarget as HTMLInputElement).value)}
            />
            <FieldError id="activity-since-error" message={errors.since} />
          </div>
          <div>
            <label class="label" for="activity-until">
              Until
            </label>
            <input
              id="activity-until"
              type="datetime-local"
              class="input"
              value={draft.until}
              aria-invalid={errors.until ? "true" : undefined}
              aria-describedby={errors.until ? "activity-until-error" : undefined}
              data-testid="activity-until"
              onInput={(e) => set("until", (e.currentTarget as HTMLInputElement).value)}
            />
            <FieldError id="activity-until-error" message={errors.until} />
          </div>
        </div>
        <div class="actions">
          <button type="submit" class="button button-primary" data-testid="activity-apply">
            Apply filters
          </button>
          {filtered && (
            <button type="button" class="button" data-testid="activity-clear" onClick={clear}>
              Clear filters
            </button>
          )}
        </div>
      </form>
      <div class="export" data-testid="activity-export">
        <span class="muted">Export {filtered ? "this selection" : "everything"}:</span>
        <button type="button" class="button" disabled={!!exporting} data-testid="export-ndjson" onClick={() => download("ndjson")}>
          {exporting === "ndjson" ? "Exporting…" : "NDJSON"}
        </button>
        <button type="button" class="button" disabled={!!exporting} data-testid="export-csv" onClick={() => download("csv")}>
          {exporting === "csv" ? "Exporting…" : "CSV"}
        </button>
        <span role="status" class={exported && !exported.ok ? "field-error" : "muted"} data-testid="export-status">
          {exported?.text ?? ""}
        </span>
      </div>
      <h2 class="sr-only">Events</h2>
      <ActivityList
        filter={auditFilter(state)}
        empty={filtered ? "No event matches these filters." : "No change recorded yet."}
      />
    </section>
  );
}
