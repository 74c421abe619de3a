// Create (/dashboard/organizations/api-keys/create) and edit
// (/dashboard/organizations/api-keys/{id}/edit) a key. The rules live in ../rules.ts.
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError } from "../api";
import { useSession } from "../app";
import { setFlash } from "../carry";
import { ErrorBanner, FieldError, Loading } from "../components/Errors";
import { TokenDialog } from "../components/TokenDialog";
import { loadDirectory, nodesAt, type Directory } from "../directory";
import { Link, navigate, paths } from "../router";
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
  groupState,
  groupsByArea,
  includedByWildcard,
  isSelected,
  newForm,
  permissionLabel,
  scopeErrorKey,
  scopeLevelsFor,
  setScopes,
  summarize,
  toggleGroup,
  togglePermission,
  validateForm,
  wildcardOf,
  type ExpiryChoice,
  type FormErrors,
  type FormState,
  type ScopeChoice,
} from "../rules";
import type { ApiKey, ApiKeyWithToken, Catalog, CatalogGroup, ScopeLevel } from "../types";

const safeId = (s: string) => s.replace(/[^a-zA-Z0-9_-]/g, "-");

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
          setForm(formFromKey(k.key));
        }
      })
      .catch((e) => live && setLoadError(e));
    loadDirectory(client).then((d) => live && setDir(d));
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
          if (k === "form") unplaced.push(f);
          else mapped[k] = mapped[k] ? `${mapped[k]} ${f.message}` : f.message;
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
                onChange={(e) => update({ ...form, allowAll: (e.currentTarget as HTMLInputElement).checked })}
                aria-describedby="allow-all-warning"
                data-testid="allow-all"
              />
              Allow all: full access to everything in the organization
            </label>
            <p id="allow-all-warning" class={form.allowAll ? "warning strong" : "warning"} data-testid="allow-all-warning">
              {form.allowAll
                ? "This key will be able to do everything, everywhere in the organization, including permissions added later and managing other keys. Use it sparingly: anyone holding the token has full control."
                : "Full access including future permissions. Use it sparingly; prefer picking permissions below."}
            </p>
          </div>

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
          </div>

          <fieldset class="permissions" disabled={form.allowAll} data-testid="permission-list">
            <legend class="sr-only">Permissions by area</legend>
            <PermissionAreas
              catalog={catalog}
              form={form}
              dir={dir}
              search={search}
              errors={errors}
              onChange={update}
            />
          </fieldset>
          {dir === null && <p class="hint">Loading your organization's teams, projects, targets and environments…</p>}
          {dir?.partial && (
            <p class="hint">Some parts of the organization could not be listed with your key, so they cannot be picked as scopes.</p>
          )}
        </fieldset>

        <ExpiryField form={form} errors={errors} original={original?.key ?? null} onChange={update} />

        <section class="summary" aria-labelledby="summary-title" data-testid="summary">
          <h2 id="summary-title">What this key will be able to do</h2>
          <ul>
            {summary.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </section>

        <div class="actions">
          <button type="submit" class="button button-primary" disabled={busy} data-testid="submit-key">
            {busy ? "Saving…" : editing ? "Save changes" : "Create API key"}
          </button>
          <Link href={editing ? paths.key(id!) : paths.list} class="button" data-testid="cancel">
            Cancel
          </Link>
        </div>
      </form>
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

interface AreaProps {
  catalog: Catalog;
  form: FormState;
  dir: Directory | null;
  search: string;
  errors: FormErrors;
  onChange: (f: FormState) => void;
}

function PermissionAreas(props: AreaProps) {
  const { catalog, search } = props;
  const areas = groupsByArea(catalog)
    .map((a) => ({ ...a, groups: a.groups.filter((g) => filterPermissions(g, search).length > 0) }))
    .filter((a) => a.groups.length > 0);
  if (areas.length === 0)
    return (
      <p class="muted" data-testid="no-permission-match">
        No permission matches “{search}”.
      </p>
    );
  return (
    <>
      {areas.map((a) =>
        a.groups.length === 1 && a.groups[0].label === a.area ? (
          <GroupBox key={a.area} group={a.groups[0]} {...props} />
        ) : (
          <section class="area" key={a.area} aria-labelledby={`area-${safeId(a.area)}`}>
            <h3 id={`area-${safeId(a.area)}`}>{a.area}</h3>
            {a.groups.map((g) => (
              <GroupBox key={g.name} group={g} {...props} />
            ))}
          </section>
        ),
      )}
    </>
  );
}

function GroupBox({ group, catalog, form, dir, search, errors, onChange }: AreaProps & { group: CatalogGroup }) {
  const state = groupState(form, group);
  const wc = wildcardOf(group.name);
  const perms = filterPermissions(group, search);
  return (
    <fieldset class="group" data-testid={`group-${group.name}`}>
      <legend>{group.label}</legend>
      <label class="check group-toggle">
        <input
          type="checkbox"
          checked={state === "all"}
          indeterminate={state === "some"}
          onChange={(e) => onChange(toggleGroup(form, catalog, group.name, (e.currentTarget as HTMLInputElement).checked))}
          data-testid={`group-toggle-${group.name}`}
          aria-describedby={`group-hint-${group.name}`}
        />
        All {group.label.toLowerCase()} permissions
      </label>
      <span class="sr-only" id={`group-hint-${group.name}`}>
        Turns every permission of this group on or off.
      </span>
      {form.grants[wc] && !form.allowAll && (
        <PermissionRow
          permission={wc}
          label={`${permissionLabel(catalog, wc)}, including ones added later`}
          description="Granted as a group wildcard."
          catalog={catalog}
          form={form}
          dir={dir}
          errors={errors}
          onChange={onChange}
        />
      )}
      <ul class="perm-list">
        {perms.map((p) => (
          <li key={p.name}>
            <PermissionRow
              permission={p.name}
              label={p.label}
              description={p.description}
              catalog={catalog}
              form={form}
              dir={dir}
              errors={errors}
              onChange={onChange}
            />
          </li>
        ))}
      </ul>
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
  errors: FormErrors;
  onChange: (f: FormState) => void;
}

function PermissionRow({ permission, label, description, catalog, form, dir, errors, onChange }: RowProps) {
  const sid = safeId(permission);
  const checked = isSelected(form, permission);
  const own = form.grants[permission];
  const levels = scopeLevelsFor(catalog, permission);
  const serverError = errors[`perm:${permission}`];
  const coveredByWildcard = includedByWildcard(form, catalog, permission);
  return (
    <div class={checked ? "perm perm-on" : "perm"} data-testid={`perm-row-${permission}`}>
      <label class="check">
        <input
          type="checkbox"
          checked={checked}
          onChange={(e) => onChange(togglePermission(form, catalog, permission, (e.currentTarget as HTMLInputElement).checked))}
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
      </p>
      <FieldError id={`perm-error-${sid}`} message={serverError} />
      {own && !form.allowAll && levels.length > 0 && (
        <ScopeEditor
          permission={permission}
          label={label}
          scopes={own}
          levels={levels}
          dir={dir}
          errors={errors}
          onChange={(scopes) => onChange(setScopes(form, permission, scopes))}
        />
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
                  <option value="">Choose a {s.level}…</option>
                  {nodes.map((n) => (
                    <option key={n.id} value={n.id}>
                      {n.path}
                    </option>
                  ))}
                  {s.id && !dir?.byId.has(s.id) && <option value={s.id}>{s.path ?? s.id}</option>}
                </select>
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
  onChange,
}: {
  form: FormState;
  errors: FormErrors;
  original: ApiKey | null;
  onChange: (f: FormState) => void;
}) {
  const options: { value: ExpiryChoice; label: string }[] = original
    ? [
        {
          value: "keep",
          label: `Keep the current expiry (${original.expires_at ? formatUtc(new Date(original.expires_at)) : "never"})`,
        },
        ...EXPIRY_OPTIONS,
      ]
    : EXPIRY_OPTIONS;
  const choose = (value: ExpiryChoice) => {
    const f = { ...form, expiry: value };
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
        {options.map((o) => (
          <label class="check" key={o.value}>
            <input
              type="radio"
              name="expiry"
              value={o.value}
              checked={form.expiry === o.value}
              onChange={() => choose(o.value)}
              data-testid={`expiry-${o.value}`}
            />
            {o.label}
          </label>
        ))}
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
      <FieldError id="expiry-error" message={errors.expiry} />
    </fieldset>
  );
}
