// "Can this key…?": asks POST /v1/verify whether the explored key's token may
// use one permission on one node, and shows the server's decision and reason.
// The token comes from the explorer's token field and is never displayed.
import { useState } from "preact/hooks";
import type { ApiClient } from "../api";
import type { Directory } from "../directory";
import { buildCheck, nodeLabel, verdict, type CheckNode, type Verdict } from "../keypage";
import { LEVEL_LABEL } from "../rules";
import type { Catalog } from "../types";
import { errorText, FieldError } from "./Errors";

const ORG = "organization";

interface Props {
  client: ApiClient;
  catalog: Catalog;
  dir: Directory | null;
  keyId: string;
  orgId: string;
  orgName: string;
  /** The token typed or carried in the explorer's token field. */
  token: string;
}

export function CanCheck({ client, catalog, dir, keyId, orgId, orgName, token }: Props) {
  const [permission, setPermission] = useState("");
  const [nodeId, setNodeId] = useState(ORG);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [result, setResult] = useState<Verdict | null>(null);
  const [busy, setBusy] = useState(false);

  const nodeOf = (id: string): CheckNode | null => {
    if (id === ORG) return { level: "organization", id: orgId };
    const n = dir?.byId.get(id);
    return n ? { level: n.level, id: n.id } : null;
  };

  const check = async (e: Event) => {
    e.preventDefault();
    const built = buildCheck(catalog, permission, nodeOf(nodeId));
    const errs = { ...built.errors };
    if (!token.trim()) errs.token = "Paste this key's token in the token field above: the check runs with it.";
    setErrors(errs);
    if (Object.keys(errs).length || !built.request) {
      // A request that fails validation leaves no stale answer on screen.
      setResult(null);
      window.setTimeout(() => document.querySelector<HTMLElement>('.can-check [aria-invalid="true"]')?.focus(), 0);
      return;
    }
    setBusy(true);
    setResult(null);
    try {
      const r = await client.verify(token.trim(), built.request);
      if (r.key && r.key.id !== keyId) {
        setErrors({ token: `This token belongs to another key (“${r.key.name}”), not to the one explored here.` });
      } else {
        setResult(verdict(r));
      }
    } catch (err) {
      setErrors({ form: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="can-check" aria-labelledby="can-check-title" data-testid="can-check">
      <h2 id="can-check-title">Can this key…?</h2>
      <p class="hint">
        Ask the server whether this key's token may use one permission at one place (through POST /v1/verify). Nothing
        changes.
      </p>
      <form noValidate onSubmit={check} data-testid="can-check-form">
        <div class="can-check-fields">
          <div class="field-inline">
            <label class="label-small" for="can-permission">
              Permission
            </label>
            <select
              id="can-permission"
              class="select"
              value={permission}
              onChange={(e) => setPermission((e.currentTarget as HTMLSelectElement).value)}
              aria-invalid={errors.permission ? "true" : undefined}
              aria-describedby={errors.permission ? "can-permission-error" : undefined}
              data-testid="can-permission"
            >
              <option value="">Choose a permission…</option>
              {catalog.groups.map((g) => (
                <optgroup key={g.name} label={g.label}>
                  {g.permissions.map((p) => (
                    <option key={p.name} value={p.name}>
                      {p.label} ({p.name})
                    </option>
                  ))}
                </optgroup>
              ))}
            </select>
            <FieldError id="can-permission-error" message={errors.permission} />
          </div>
          <div class="field-inline">
            <label class="label-small" for="can-node">
              Where
            </label>
            <select
              id="can-node"
              class="select"
              value={nodeId}
              onChange={(e) => setNodeId((e.currentTarget as HTMLSelectElement).value)}
              aria-invalid={errors.node ? "true" : undefined}
              aria-describedby={errors.node ? "can-node-error" : undefined}
              data-testid="can-node"
            >
              <option value={ORG}>{nodeLabel({ level: "organization", id: orgId }, orgName)}</option>
              {(dir?.nodes ?? []).map((n) => (
                <option key={n.id} value={n.id}>
                  {LEVEL_LABEL[n.level]}: {n.path}
                </option>
              ))}
            </select>
            <FieldError id="can-node-error" message={errors.node} />
          </div>
          <button type="submit" class="button button-primary" disabled={busy} data-testid="can-check-submit">
            {busy ? "Checking…" : "Check"}
          </button>
        </div>
        <FieldError id="can-token-error" message={errors.token} />
        <FieldError id="can-form-error" message={errors.form} />
      </form>
      <div aria-live="polite">
        {result && (
          <p
            class={`banner ${result.allowed ? "banner-success" : "banner-error"}`}
            data-testid="can-check-result"
            data-allowed={result.allowed ? "true" : "false"}
          >
            <strong>{result.allowed ? "Allowed." : "Denied."}</strong> {result.reason}
          </p>
        )}
      </div>
    </section>
  );
}
