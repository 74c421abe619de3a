// Create (/dashboard/organizations/api-keys/create) and edit
// (/dashboard/organizations/api-keys/{id}/edit) a key. The rules live in ../rules.ts.
import { useEffect, useMemo, useState } from "preact/hooks";
import {
  applyAreaChoice,
  applyWhere,
  areaChoiceOf,
  choiceDisabled,
  expiryDisabled,
  formAreas,
  holderFromKey,
  permissionDisabled,
  scopesFor,
  setPermission,
  whereOf,
  type AreaChoice,
  type FormArea,
  type Holder,
  type Where,
} from "../areas";
import "./KeyForm.css";
import { ApiError } from "../api";
import { useSession } from "../app";
import { setFlash } from "../carry";
import { ErrorBanner, FieldError, Loading } from "../components/Errors";
import { TokenDialog } from "../components/TokenDialog";
import { loadDirectory, nodesAt, type Directory } from "../directory";
import { plural } from "../grammar";
import { networkErrorText } from "../networks";
import { Link, navigate, paths } from "../router";
import { useTitle } from "../title";
import {
  EXPIRY_OPTIONS,
  LEVEL_LABEL,
  ORG_WIDE,
  accessMode,
  applyPreset,
  buildRequest,
  fieldToFormKey,
  filterPermissions,
  formFromKey,
  formatUtc,
  article,
  includedByWildcard,
  isSelected,
  newForm,
  permissionLabel,
  scopeErrorKey,
  scopeLevelsFor,
  setScopes,
  summarize,
  togglePermission,
  validateForm,
  wildcardOf,
  type ExpiryChoice,
  type FormErrors,
  type FormState,
  type ScopeChoice,
} from "../rules";
import type { ApiKey, ApiKeyWithToken, Catalog, ScopeLevel } from "../types";

const safeId = (s: string) => s.replace(/[^a-zA-Z0-9_-]/g, "-");

const CHOICES: { value: AreaChoice; label: string }[] = [
  { value: "none", label: "No access" },
  { value: "read", label: "Read" },
  { value: "write", label: "Read & write" },
  { value: "custom", label: "Custom" },
];

function localInputValue(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function KeyForm({ id }: { id?: string }) {
  const { session } = useSession();
  const client = session.client;
  const editing = id !== undefined;

  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [dir, setDir] = useState<Directory | null>(null);
  const [original, setOriginal] = useState<{ key: ApiKey; etag: string | null } | null>(null);
  const [form, setForm] = useState<FormState>(newForm);
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<FormErrors>({});
  const [bannerError, setBannerError] = useState<unknown>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [conflict, setConflict] = useState(false);
  const [busy, setBusy] = useState(false);
  const [search, setSearch] = useState("");
  const [created, setCreated] = useState<ApiKeyWithToken | null>(null);
  const [focusTick, setFocusTick] = useState(0);
  useTitle(...(editing ? [original ? `Edit ${original.key.name}` : "Edit", "API key"] : ["Create API key"]));
  const [holderKey, setHolderKey] = useState<ApiKey | null>(null);
  const [where, setWhere] = useState<Where>([]);
  const [whereMode, setWhereMode] = useState<"org" | "nodes">("org");
  const [customOpen, setCustomOpen] = useState<Record<string, boolean>>({});
  const [summaryOpen, setSummaryOpen] = useState(false);

  const loadKey = async () => {
    if (!id) return;
    const r = await client.getKey(id);
    setOriginal(r);
    setForm(formFromKey(r.key));
    setServerErrors({});
    setBannerError(null);
    setConflict(false);
    setSubmitted(false);
  };

  useEffect(() => {
    let live = true;
    Promise.all([client.permissions(), id ? client.getKey(id) : Promise.resolve(null)])
      .then(([c, k]) => {
        if (!live) return;
        setCatalog(c);
        if (k) {
          setOriginal(k);
          const f = formFromKey(k.key);
          setForm(f);
          const w = whereOf(f);
          setWhere(w);
          setWhereMode(w.length ? "nodes" : "org");
        }
      })
      .catch((e) => live && setLoadError(e));
    loadDirectory(client).then((d) => live && setDir(d));
    // The signed-in key bounds what the form offers; without api_tokens:read
    // it stays unknown and the server alone refuses an escalation.
    client
      .getKey(session.keyId)
      .then((r) => {
        if (!live) return;
        setHolderKey(r.key);
        const exp = r.key.expires_at;
        if (!id && exp && new Date(exp).getTime() < Date.now() + 30 * 86400000)
          setForm((f) => (f.expiry === "30d" ? { ...f, expiry: "until", untilExpiry: exp } : f));
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [id]);

  useEffect(() => {
    if (focusTick === 0) return;
    document.querySelector<HTMLElement>('main [aria-invalid="true"], main .field-error')?.focus();
  }, [focusTick]);

  const clientErrors = useMemo(
    () => (catalog && submitted ? validateForm(form, catalog, new Date()) : {}),
    [form, catalog, submitted],
  );
  const errors: FormErrors = { ...serverErrors, ...clientErrors };

  const update = (f: FormState) => {
    setForm(f);
    if (Object.keys(serverErrors).length) setServerErrors({});
  };

  if (loadError)
    return (
      <section>
        <h1 tabIndex={-1}>{editing ? "Edit API key" : "Create API key"}</h1>
        <ErrorBanner error={loadError} />
        <Link href={paths.list}>Back to API keys</Link>
      </section>
    );
  if (!catalog || (editing && !original)) return <Loading what="the form" />;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const now = new Date();
    const errs = validateForm(form, catalog, now);
    setSubmitted(true);
    setServerErrors({});
    setBannerError(null);
    if (Object.keys(errs).length) {
      setFocusTick((t) => t + 1);
      return;
    }
    const { body, grantOrder } = buildRequest(form, catalog, now, original?.key);
    if (editing && Object.keys(body).length === 0) {
      setFlash("Nothing changed.");
      navigate(paths.key(id!));
      return;
    }
    setBusy(true);
    try {
      if (editing) {
        await client.updateKey(id!, body, original!.etag);
        setFlash("Changes saved.");
        navigate(paths.key(id!));
      } else {
        setCreated(await client.createKey(body));
      }
    } catch (err) {
      if (editing && err instanceof ApiError && (err.status === 409 || err.status === 412)) {
        setConflict(true);
      } else if (err instanceof ApiError && err.fieldErrors().length) {
        const mapped: FormErrors = {};
        const unplaced: { field: string; code: string; message: string }[] = [];
        for (const f of err.fieldErrors()) {
          const k = fieldToFormKey(f.field, grantOrder);
          const message = k === "networks" ? networkErrorText(f.field, f.message, body.allowed_cidrs ?? []) : f.message;
          if (k === "form") unplaced.push(f);
          else mapped[k] = mapped[k] ? `${mapped[k]} ${message}` : message;
        }
        setServerErrors(mapped);
        setBannerError(
          new ApiError(err.status, {
            ...err.problem,
            detail: "The key was not saved: some fields need attention (see below).",
            errors: unplaced,
          }),
        );
        setFocusTick((t) => t + 1);
      } else {
        setBannerError(err);
      }
    } finally {
      setBusy(false);
    }
  };

  const holder: Holder | null = holderKey ? holderFromKey(holderKey, dir) : null;
  const changeWhere = (mode: "org" | "nodes", w: Where) => {
    const next = mode === "org" ? [] : w;
    update(applyWhere(form, catalog, where, next));
    setWhere(next);
    setWhereMode(mode);
  };
  const mode = accessMode(form, catalog);
  const summary = summarize(form, catalog, dir, new Date(), original?.key.expires_at ?? null);
  const title = editing ? `Edit “${original!.key.name}”` : "Create API key";

  return (
    <section>
      <h1 tabIndex={-1}>{title}</h1>
      {!editing && (
        <p class="lead">
          The token is shown once, right after you create the key. Choose only the permissions the integration needs.
        </p>
      )}
      {conflict && (
        <div class="banner banner-error" role="alert" data-testid="conflict">
          <p>
            <strong>Someone else changed this key</strong> since you opened it, so your changes were not saved. Reload
            the key to see the current version, then make your changes again.
          </p>
          <button type="button" class="button" data-testid="conflict-reload" onClick={() => loadKey().catch(setBannerError)}>
            Reload the key
          </button>
        </div>
      )}
      <ErrorBanner error={bannerError} testId="form-error" />
      <div class="form-layout">
      <aside
        class={summaryOpen ? "summary form-summary open" : "summary form-summary"}
        aria-labelledby="summary-title"
        data-testid="summary"
      >
        <h2 id="summary-title">What this key will be able to do</h2>
        <button
          type="button"
          class="button button-small summary-toggle"
          aria-expanded={summaryOpen ? "true" : "false"}
          aria-controls="summary-lines"
          onClick={() => setSummaryOpen(!summaryOpen)}
          data-testid="summary-toggle"
        >
          {summaryOpen ? "Hide" : "Show"} the summary ({summary.length} lines)
        </button>
        <ul id="summary-lines">
          {summary.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      </aside>
      <form class="key-form" onSubmit={submit} noValidate data-testid="key-form">
        <div class="field">
          <label class="label" for="key-name">
            Name
          </label>
          <input
            id="key-name"
            class="input"
            type="text"
            maxLength={100}
            autoComplete="off"
            value={form.name}
            onInput={(e) => update({ ...form, name: (e.currentTarget as HTMLInputElement).value })}
            aria-invalid={errors.name ? "true" : undefined}
            aria-describedby={errors.name ? "key-name-error key-name-hint" : "key-name-hint"}
            data-testid="key-name"
          />
          <p class="hint" id="key-name-hint">
            A name you will recognize later, such as “CI deploy (billing)”. Up to 100 characters.
          </p>
          <FieldError id="key-name-error" message={errors.name} />
        </div>

        <fieldset class="section" aria-describedby={errors.permissions ? "permissions-error" : undefined}>
          <legend>Permissions</legend>
          <div class="toolbar">
            {catalog.presets.map((p) => (
              <button
                key={p.name}
                type="button"
                class="button"
                data-testid={`preset-${p.name}`}
                disabled={p.permissions.some((x) => !!permissionDisabled(catalog, holder, x, [], dir))}
                title={p.permissions.map((x) => permissionDisabled(catalog, holder, x, [], dir)).find(Boolean) ?? undefined}
                onClick={() => update(applyPreset(form, catalog, p.name))}
              >
                {p.label} preset
              </button>
            ))}
            <button
              type="button"
              class="button"
              data-testid="clear-permissions"
              onClick={() => update({ ...form, allowAll: false, preset: null, grants: {} })}
            >
              Clear selection
            </button>
          </div>
          {mode === "preset" && (
            <p class="hint" data-testid="preset-active">
              The read-only preset is selected: the key can read but never change anything. You can still narrow each
              permission to part of your organization.
            </p>
          )}
          <FieldError id="permissions-error" message={errors.permissions} />

          <div class="allow-all">
            <label class="check">
              <input
                type="checkbox"
                id="allow-all"
                checked={form.allowAll}
                disabled={!!holder && !holder.allowAll && !form.allowAll}
                onChange={(e) => update({ ...form, allowAll: (e.currentTarget as HTMLInputElement).checked })}
                aria-describedby="allow-all-warning"
                data-testid="allow-all"
              />
              Allow all: full access to everything in the organization
            </label>
            {holder && !holder.allowAll && (
              <p class="hint" data-testid="allow-all-disabled">
                Your key does not have allow all, so it cannot give it.
              </p>
            )}
            <p id="allow-all-warning" class={form.allowAll ? "warning strong" : "warning"} data-testid="allow-all-warning">
              {form.allowAll
                ? "This key will be able to do everything, everywhere in the organization, including permissions added later and managing other keys. Use it sparingly: anyone holding the token has full control."
                : "Full access including future permissions. Use it sparingly; prefer picking permissions below."}
            </p>
          </div>

          <WhereField
            mode={whereMode}
            where={where}
            dir={dir}
            disabled={form.allowAll}
            onChange={changeWhere}
          />

          <div class="field">
            <label class="label" for="permission-search">
              Search permissions
            </label>
            <input
              id="permission-search"
              class="input"
              type="search"
              value={search}
              placeholder="e.g. secrets, read, billing"
              onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)}
              data-testid="permission-search"
            />
            <p class="hint">Searching opens the matching permissions of every area.</p>
          </div>

          <fieldset class="permissions" disabled={form.allowAll} data-testid="permission-list">
            <legend class="sr-only">Access by area</legend>
            {formAreas(catalog).map((area) => (
              <AreaBox
                key={area.id}
                area={area}
                catalog={catalog}
                form={form}
                dir={dir}
                where={where}
                holder={holder}
                search={search}
                errors={errors}
                open={!!customOpen[area.id]}
                setOpen={(o) => setCustomOpen({ ...customOpen, [area.id]: o })}
                onChange={update}
              />
            ))}
          </fieldset>
          {dir === null && <p class="hint">Loading your organization's teams, projects, targets and environments…</p>}
          {dir?.partial && (
            <p class="hint">Some parts of the organization could not be listed with your key, so they cannot be picked as scopes.</p>
          )}
        </fieldset>

        <ExpiryField form={form} errors={errors} original={original?.key ?? null} holder={holder} onChange={update} />

        <div class="field section" data-testid="networks-field">
          <label class="label" for="key-networks">
            Allowed networks <span class="muted">(optional)</span>
          </label>
          <textarea
            id="key-networks"
            class="input mono networks-input"
            rows={3}
            spellcheck={false}
            autoComplete="off"
            placeholder={"203.0.113.0/24\n2001:db8::/32"}
            value={form.networks ?? ""}
            onInput={(e) => update({ ...form, networks: (e.currentTarget as HTMLTextAreaElement).value })}
            aria-invalid={errors.networks ? "true" : undefined}
            aria-describedby={errors.networks ? "key-networks-error key-networks-hint" : "key-networks-hint"}
            data-testid="key-networks"
          />
          <p class="hint" id="key-networks-hint">
            One network per line (CIDR such as 203.0.113.0/24, or a single address), at most 32. The key then works only
            from these addresses; leave empty to allow any.
          </p>
          <FieldError id="key-networks-error" message={errors.networks} />
        </div>

        <div class="actions">
          <button type="submit" class="button button-primary" disabled={busy} data-testid="submit-key">
            {busy ? "Saving…" : editing ? "Save changes" : "Create API key"}
          </button>
          <Link href={editing ? paths.key(id!) : paths.list} class="button" data-testid="cancel">
            Cancel
          </Link>
        </div>
      </form>
      </div>
      {created && (
        <TokenDialog
          token={created.token}
          keyId={created.id}
          keyName={created.name}
          onClose={() => {
            setCreated(null);
            setFlash(`API key “${created.name}” created.`);
            navigate(paths.key(created.id));
          }}
        />
      )}
    </section>
  );
}

function WhereField({
  mode,
  where,
  dir,
  disabled,
  onChange,
}: {
  mode: "org" | "nodes";
  where: Where;
  dir: Directory | null;
  disabled: boolean;
  onChange: (mode: "org" | "nodes", w: Where) => void;
}) {
  const [query, setQuery] = useState("");
  const q = query.trim().toLowerCase();
  const chosen = new Set(where.map((w) => w.id));
  const nodes = (dir?.nodes ?? []).filter((n) => !q || n.path.toLowerCase().includes(q));
  // Tree order: each node right after its parent.
  const tree = [...nodes].sort((a, b) => {
    const pa = a.lineage.map((id) => dir?.byId.get(id)?.name ?? id).join("\u0000");
    const pb = b.lineage.map((id) => dir?.byId.get(id)?.name ?? id).join("\u0000");
    return pa < pb ? -1 : pa > pb ? 1 : 0;
  });
  const toggle = (id: string, on: boolean) => {
    const n = dir?.byId.get(id);
    if (!n) return;
    onChange("nodes", on ? [...where, { level: n.level, id: n.id, path: n.path }] : where.filter((w) => w.id !== id));
  };
  return (
    <fieldset class="where" disabled={disabled} data-testid="where">
      <legend>Where</legend>
      <p class="hint">One place for the whole key; a permission can get its own scope under Custom.</p>
      <div class="radios">
        <label class="check">
          <input
            type="radio"
            name="where"
            checked={mode === "org"}
            onChange={() => onChange("org", [])}
            data-testid="where-org"
          />
          Whole organization
        </label>
        <label class="check">
          <input
            type="radio"
            name="where"
            checked={mode === "nodes"}
            onChange={() => onChange("nodes", where)}
            data-testid="where-nodes"
          />
          Only in chosen teams, projects, targets or environments
        </label>
      </div>
      {mode === "nodes" &&
        (dir && dir.nodes.length === 0 ? (
          <p class="muted" data-testid="where-empty">
            No teams, projects, targets or environments yet: create them in the{" "}
            <Link href={paths.directory}>directory</Link>, or keep the whole organization.
          </p>
        ) : (
          <div class="where-tree">
            <label class="label-small" for="where-search">
              Search teams, projects, targets and environments
            </label>
            <input
              id="where-search"
              class="input"
              type="search"
              value={query}
              onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)}
              data-testid="where-search"
            />
            {dir === null ? (
              <p class="hint">Loading…</p>
            ) : (
              <ul class="tree" aria-label="Teams, projects, targets and environments">
                {tree.map((n) => (
                  <li key={n.id} class={`tree-${n.level}`}>
                    <label class="check">
                      <input
                        type="checkbox"
                        checked={chosen.has(n.id)}
                        onChange={(e) => toggle(n.id, (e.currentTarget as HTMLInputElement).checked)}
                        data-testid={`where-node-${n.id}`}
                        data-path={n.path}
                      />
                      <span>
                        {n.name} <span class="muted">({LEVEL_LABEL[n.level].toLowerCase()})</span>
                      </span>
                    </label>
                  </li>
                ))}
                {tree.length === 0 && <li class="muted">Nothing matches “{query}”.</li>}
              </ul>
            )}
            {where.length === 0 && <p class="hint">Nothing chosen yet: the key stays organization-wide.</p>}
          </div>
        ))}
    </fieldset>
  );
}

interface AreaProps {
  area: FormArea;
  catalog: Catalog;
  form: FormState;
  dir: Directory | null;
  where: Where;
  holder: Holder | null;
  search: string;
  errors: FormErrors;
  open: boolean;
  setOpen: (open: boolean) => void;
  onChange: (f: FormState) => void;
}

function AreaBox({ area, catalog, form, dir, where, holder, search, errors, open, setOpen, onChange }: AreaProps) {
  const derived = form.allowAll ? "write" : areaChoiceOf(form, catalog, area, where);
  const searching = search.trim() !== "";
  const groups = area.groups.filter((g) => filterPermissions(g, search).length > 0);
  if (searching && groups.length === 0) return null;
  const choice: AreaChoice = open || searching ? "custom" : derived;
  const names = new Set(area.groups.flatMap((g) => [g.wildcard.name, ...g.permissions.map((p) => p.name)]));
  const areaErrors = Object.entries(errors)
    .filter(([k]) => {
      const m = /^(?:perm|scope):(.+?)(?::\d+)?$/.exec(k);
      return m && names.has(m[1]);
    })
    .map(([, v]) => v);
  const errId = `area-error-${area.id}`;
  return (
    <fieldset class="area-box" data-testid={`area-${area.id}`} aria-describedby={areaErrors.length ? errId : undefined}>
      <legend>{area.label}</legend>
      <div class="choices" role="radiogroup" aria-label={`Access to ${area.label}`}>
        {CHOICES.map((c) => {
          const why =
            c.value === "read" || c.value === "write" ? choiceDisabled(catalog, holder, area, c.value, where, dir) : null;
          const whyId = `area-why-${area.id}-${c.value}`;
          return (
            <label class={why ? "check choice disabled" : "check choice"} key={c.value}>
              <input
                type="radio"
                name={`area-${area.id}`}
                value={c.value}
                checked={choice === c.value}
                disabled={!!why}
                aria-describedby={why ? whyId : undefined}
                onChange={() => {
                  setOpen(c.value === "custom");
                  onChange(applyAreaChoice(form, catalog, area, c.value, where));
                }}
                data-testid={`area-${area.id}-${c.value}`}
              />
              {c.label}
              {why && (
                <span class="why" id={whyId} data-testid={`area-why-${area.id}-${c.value}`}>
                  {why}
                </span>
              )}
            </label>
          );
        })}
      </div>
      {areaErrors.length > 0 && <FieldError id={errId} message={areaErrors.join(" ")} />}
      {choice === "custom" &&
        groups.map((g) => {
          const wc = wildcardOf(g.name);
          return (
            <fieldset class="group" data-testid={`group-${g.name}`} key={g.name}>
              <legend class={g.label === area.label ? "sr-only" : undefined}>{g.label}</legend>
              <ul class="perm-list">
                {form.grants[wc] && !form.allowAll && (
                  <li>
                    <PermissionRow
                      permission={wc}
                      label={`${permissionLabel(catalog, wc)}, including ones added later`}
                      description="Granted as a group wildcard."
                      catalog={catalog}
                      form={form}
                      dir={dir}
                      where={where}
                      holder={holder}
                      errors={errors}
                      onChange={onChange}
                    />
                  </li>
                )}
                {filterPermissions(g, search).map((p) => (
                  <li key={p.name}>
                    <PermissionRow
                      permission={p.name}
                      label={p.label}
                      description={p.description}
                      catalog={catalog}
                      form={form}
                      dir={dir}
                      where={where}
                      holder={holder}
                      errors={errors}
                      onChange={onChange}
                    />
                  </li>
                ))}
              </ul>
            </fieldset>
          );
        })}
    </fieldset>
  );
}

interface RowProps {
  permission: string;
  label: string;
  description: string;
  catalog: Catalog;
  form: FormState;
  dir: Directory | null;
  where: Where;
  holder: Holder | null;
  errors: FormErrors;
  onChange: (f: FormState) => void;
}

function PermissionRow({ permission, label, description, catalog, form, dir, where, holder, errors, onChange }: RowProps) {
  const sid = safeId(permission);
  const checked = isSelected(form, permission);
  const own = form.grants[permission];
  const levels = scopeLevelsFor(catalog, permission);
  const serverError = errors[`perm:${permission}`];
  const coveredByWildcard = includedByWildcard(form, catalog, permission);
  const why = checked ? null : permissionDisabled(catalog, holder, permission, where, dir);
  const orgOnly = where.length > 0 && scopesFor(catalog, permission, where).length === 0;
  const scopeText = (own ?? [])
    .map((x) => (x.level ? (dir?.byId.get(x.id)?.path ?? x.path ?? `no ${x.level} chosen`) : "whole organization"))
    .join("; ");
  return (
    <div class={checked ? "perm perm-on" : "perm"} data-testid={`perm-row-${permission}`}>
      <label class="check">
        <input
          type="checkbox"
          checked={checked}
          disabled={!!why}
          onChange={(e) => {
            const on = (e.currentTarget as HTMLInputElement).checked;
            onChange(
              on || form.grants[permission]
                ? setPermission(form, catalog, permission, on, where)
                : togglePermission(form, catalog, permission, on),
            );
          }}
          aria-describedby={`perm-desc-${sid}${serverError ? ` perm-error-${sid}` : ""}`}
          aria-invalid={serverError ? "true" : undefined}
          data-testid={`perm-${permission}`}
        />
        <span>
          {label} <code class="perm-name">{permission}</code>
        </span>
      </label>
      <p class="hint" id={`perm-desc-${sid}`}>
        {description}
        {levels.length === 0 &&
          (permission.endsWith(":create")
            ? " Organization-wide: create permissions cannot be scoped."
            : " Organization-wide only.")}
        {coveredByWildcard && " Included by the group wildcard."}
        {orgOnly && ` Cannot be narrowed to the chosen places: given organization-wide.`}
        {why && <span class="why" data-testid={`perm-why-${permission}`}> {why}</span>}
      </p>
      <FieldError id={`perm-error-${sid}`} message={serverError} />
      {own && !form.allowAll && levels.length > 0 && (
        <details class="scope-override" data-testid={`scope-override-${permission}`}>
          <summary>Scope: {scopeText} (change for this permission only)</summary>
        <ScopeEditor
          permission={permission}
          label={label}
          scopes={own}
          levels={levels}
          dir={dir}
          errors={errors}
          onChange={(scopes) => onChange(setScopes(form, permission, scopes))}
        />
        </details>
      )}
    </div>
  );
}

interface ScopeProps {
  permission: string;
  label: string;
  scopes: ScopeChoice[];
  levels: ScopeLevel[];
  dir: Directory | null;
  errors: FormErrors;
  onChange: (scopes: ScopeChoice[]) => void;
}

function ScopeEditor({ permission, label, scopes, levels, dir, errors, onChange }: ScopeProps) {
  const sid = safeId(permission);
  const set = (i: number, s: ScopeChoice) => onChange(scopes.map((x, j) => (j === i ? s : x)));
  return (
    <div class="scopes">
      {scopes.map((s, i) => {
        const err = errors[scopeErrorKey(permission, i)];
        const levelId = `scope-level-${sid}-${i}`;
        const nodeId = `scope-node-${sid}-${i}`;
        const errId = `scope-error-${sid}-${i}`;
        const nodes = s.level && dir ? nodesAt(dir, s.level) : [];
        return (
          <div class="scope-row" key={i}>
            <div class="field-inline">
              <label class="label-small" for={levelId}>
                Scope of “{label}”{scopes.length > 1 ? ` (${i + 1})` : ""}
              </label>
              <select
                id={levelId}
                class="select"
                value={s.level}
                onChange={(e) =>
                  set(i, { level: (e.currentTarget as HTMLSelectElement).value as ScopeLevel | "", id: "" })
                }
                data-testid={`scope-level-${permission}-${i}`}
              >
                <option value="">Whole organization</option>
                {levels.map((l) => (
                  <option key={l} value={l}>
                    One {LEVEL_LABEL[l].toLowerCase()}
                  </option>
                ))}
              </select>
            </div>
            {s.level && (
              <div class="field-inline">
                <label class="label-small" for={nodeId}>
                  {LEVEL_LABEL[s.level]}
                </label>
                <select
                  id={nodeId}
                  class="select"
                  value={s.id}
                  disabled={dir === null}
                  onChange={(e) => {
                    const v = (e.currentTarget as HTMLSelectElement).value;
                    set(i, { level: s.level, id: v, path: dir?.byId.get(v)?.path });
                  }}
                  aria-invalid={err ? "true" : undefined}
                  aria-describedby={err ? errId : undefined}
                  data-testid={`scope-node-${permission}-${i}`}
                >
                  <option value="">
                    Choose {article(s.level)} {s.level}…
                  </option>
                  {nodes.map((n) => (
                    <option key={n.id} value={n.id}>
                      {n.path}
                    </option>
                  ))}
                  {s.id && !dir?.byId.has(s.id) && <option value={s.id}>{s.path ?? s.id}</option>}
                </select>
                {dir && nodes.length === 0 && (
                  <p class="hint" data-testid={`scope-empty-${permission}-${i}`}>
                    No {plural(s.level)} yet: create them in the <Link href={paths.directory}>directory</Link>.
                  </p>
                )}
              </div>
            )}
            {scopes.length > 1 && (
              <button
                type="button"
                class="button button-small"
                onClick={() => onChange(scopes.filter((_, j) => j !== i))}
                aria-label={`Remove scope ${i + 1} of ${label}`}
              >
                Remove
              </button>
            )}
            <FieldError id={errId} message={err} />
          </div>
        );
      })}
      <button
        type="button"
        class="button button-small button-link"
        onClick={() => onChange([...scopes, { ...ORG_WIDE, level: levels[levels.length - 1] }])}
        data-testid={`scope-add-${permission}`}
      >
        Add another scope
      </button>
    </div>
  );
}

function ExpiryField({
  form,
  errors,
  original,
  holder,
  onChange,
}: {
  form: FormState;
  errors: FormErrors;
  original: ApiKey | null;
  holder: Holder | null;
  onChange: (f: FormState) => void;
}) {
  const now = new Date();
  const options: { value: ExpiryChoice; label: string }[] = original
    ? [
        {
          value: "keep",
          label: `Keep the current expiry (${original.expires_at ? formatUtc(new Date(original.expires_at)) : "never"})`,
        },
        ...EXPIRY_OPTIONS,
      ]
    : [...EXPIRY_OPTIONS]; // a copy: the splice below must not grow the shared list on every render
  if (holder?.expiresAt && new Date(holder.expiresAt).getTime() > now.getTime())
    options.splice(original ? 1 : 0, 0, {
      value: "until",
      label: `Until my key expires (${formatUtc(new Date(holder.expiresAt))})`,
    });
  const choose = (value: ExpiryChoice) => {
    const f = { ...form, expiry: value, untilExpiry: value === "until" ? (holder?.expiresAt ?? undefined) : undefined };
    if (value === "custom" && !form.customExpiry) f.customExpiry = localInputValue(new Date(Date.now() + 7 * 86400000));
    onChange(f);
  };
  return (
    <fieldset class="section" aria-describedby={errors.expiry ? "expiry-error" : "expiry-hint"}>
      <legend>Expiration</legend>
      <p class="hint" id="expiry-hint">
        We suggest 30 days. Prefer an expiry over “never”, and rotate before the key lapses.
      </p>
      <div class="radios">
        {options.map((o) => {
          const why = o.value === "custom" ? null : expiryDisabled(holder, o.value, now);
          return (
            <label class={why ? "check disabled" : "check"} key={o.value}>
              <input
                type="radio"
                name="expiry"
                value={o.value}
                checked={form.expiry === o.value}
                disabled={!!why && form.expiry !== o.value}
                aria-describedby={why ? `expiry-why-${o.value}` : undefined}
                onChange={() => choose(o.value)}
                data-testid={`expiry-${o.value}`}
              />
              {o.label}
              {why && (
                <span class="why" id={`expiry-why-${o.value}`} data-testid={`expiry-why-${o.value}`}>
                  {why}
                </span>
              )}
            </label>
          );
        })}
      </div>
      {form.expiry === "custom" && (
        <div class="field">
          <label class="label" for="expiry-date">
            Expires at (your local time)
          </label>
          <input
            id="expiry-date"
            class="input"
            type="datetime-local"
            min={localInputValue(new Date())}
            value={form.customExpiry}
            max={holder?.expiresAt ? localInputValue(new Date(holder.expiresAt)) : undefined}
            onInput={(e) => onChange({ ...form, customExpiry: (e.currentTarget as HTMLInputElement).value })}
            aria-invalid={errors.expiry ? "true" : undefined}
            aria-describedby={errors.expiry ? "expiry-error" : undefined}
            data-testid="expiry-custom-date"
          />
        </div>
      )}
      {form.expiry === "never" && (
        <p class="warning strong" data-testid="never-warning">
          A key that never expires stays usable forever if it leaks. Choose an expiry unless you really need this, and
          rotate the key regularly.
        </p>
      )}
      {form.expiry === "custom" && expiryDisabled(holder, "custom", now, form.customExpiry) && (
        <p class="warning" data-testid="expiry-custom-why">
          {expiryDisabled(holder, "custom", now, form.customExpiry)}
        </p>
      )}
      <FieldError id="expiry-error" message={errors.expiry} />
    </fieldset>
  );
}
