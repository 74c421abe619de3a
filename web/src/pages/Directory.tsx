// The directory page: the organization's teams ⊃ projects ⊃ targets ⊃
// environments as a tree, where each node can be created, renamed and
// deleted. Every rule (unique sibling names, no deleting a node with
// children, name length) is the server's: its answer is shown next to the
// field concerned.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ApiError, type NodeRef } from "../api";
import { useSession } from "../app";
import { ErrorBanner, Loading, errorText } from "../components/Errors";
import { buildTree, childLevel, loadDirectory, type DirNode, type Directory, type TreeNode } from "../directory";
import { LEVEL_LABEL } from "../rules";
import { useTitle } from "../title";
import type { ScopeLevel } from "../types";
import "./Directory.css";

/** The one editor open at a time: add under a node (null: a team), rename or delete a node. */
type Editing = { kind: "add"; parent: DirNode | null } | { kind: "rename"; node: DirNode } | { kind: "delete"; node: DirNode };

const refOf = (n: DirNode): NodeRef => ({ level: n.level, id: n.id, projectId: n.projectId, targetId: n.targetId });

const lower = (l: ScopeLevel) => LEVEL_LABEL[l].toLowerCase();

/** The message of a failed request for the name field: the server's field error, else its whole message. */
function nameError(e: unknown): string {
  if (e instanceof ApiError) {
    const f = e.fieldErrors().find((x) => x.field === "name");
    if (f) return f.message;
  }
  return errorText(e);
}

export function DirectoryPage() {
  const { session } = useSession();
  const client = session.client;
  const [dir, setDir] = useState<Directory | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const [editing, setEditingState] = useState<Editing | null>(null);
  const [status, setStatus] = useState("");
  // The button that opened the editor gets the focus back when it closes
  // (the page's heading when that button is gone, after a delete).
  // It is found again by its node's id and its data-testid, since renaming
  // re-renders the row.
  const opener = useRef<string | null>(null);
  const setEditing = (e: Editing | null) => {
    if (e && !editing) {
      const el = document.activeElement as HTMLElement | null;
      const nodeId = el?.closest<HTMLElement>("[data-node-id]")?.dataset.nodeId;
      const testId = el?.dataset.testid;
      opener.current = testId
        ? `${nodeId ? `[data-node-id="${nodeId}"] > .dir-row ` : ""}[data-testid="${testId}"]`
        : "main h1";
    }
    setEditingState(e);
  };
  useLayoutEffect(() => {
    if (editing || !opener.current) return;
    const sel = opener.current;
    opener.current = null;
    (document.querySelector<HTMLElement>(sel) ?? document.querySelector<HTMLElement>("main h1"))?.focus();
  }, [editing]);

  useTitle("Directory");

  useEffect(() => {
    let live = true;
    loadDirectory(client)
      .then((d) => live && setDir(d))
      .catch((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [version]);

  const done = (message: string) => {
    setEditing(null);
    setStatus(message);
    setVersion((v) => v + 1);
  };

  const add = async (parent: DirNode | null, name: string) => {
    const level: ScopeLevel = parent ? childLevel(parent.level)! : "team";
    const made = await client.createNode(level, name, parent ? refOf(parent) : null);
    done(`Created ${lower(level)} ${made.name}${parent ? ` in ${lower(parent.level)} ${parent.name}` : ""}.`);
  };
  const rename = async (node: DirNode, name: string) => {
    const renamed = await client.renameNode(refOf(node), name);
    done(`Renamed ${lower(node.level)} ${node.name} to ${renamed.name}.`);
  };
  const remove = async (node: DirNode) => {
    await client.deleteNode(refOf(node));
    opener.current = "main h1";
    done(`Deleted ${lower(node.level)} ${node.name}.`);
  };

  const tree = dir ? buildTree(dir) : [];
  const ctx: NodeCtx = { editing, setEditing, add, rename, remove };

  return (
    <section class="directory">
      <div class="page-head">
        <h1 tabIndex={-1}>Directory</h1>
      </div>
      <p class="lead">
        Your organization's teams, their projects, each project's targets (such as web or api) and each target's
        environments (such as production). API keys can be limited to any of them.
      </p>
      <p class="sr-only" role="status" aria-live="polite" data-testid="dir-status">
        {status}
      </p>
      <ErrorBanner error={error} />
      {dir?.partial && (
        <p class="banner banner-info" data-testid="dir-partial">
          Your API key cannot read every part of the directory, so some teams, projects, targets or environments may be
          missing here.
        </p>
      )}
      <div class="dir-top">
        {editing?.kind === "add" && editing.parent === null ? (
          <NameForm
            id="dir-new-team"
            label="Name of the new team"
            submit="Add team"
            onSubmit={(name) => add(null, name)}
            onCancel={() => setEditing(null)}
          />
        ) : (
          <button
            type="button"
            class="button button-primary"
            data-testid="dir-add-team"
            onClick={() => setEditing({ kind: "add", parent: null })}
          >
            Add team
          </button>
        )}
      </div>
      {!dir && !error && <Loading what="the directory" />}
      {dir && tree.length === 0 && (
        <div class="empty" data-testid="dir-empty">
          <p>
            No teams yet. Add a team, then its projects, each project's targets and each target's environments: API keys
            can then be limited to them.
          </p>
        </div>
      )}
      {tree.length > 0 && (
        <ul class="dir-tree" data-testid="dir-tree">
          {tree.map((t) => (
            <Node key={t.node.id} tree={t} ctx={ctx} />
          ))}
        </ul>
      )}
    </section>
  );
}

interface NodeCtx {
  editing: Editing | null;
  setEditing: (e: Editing | null) => void;
  add: (parent: DirNode, name: string) => Promise<void>;
  rename: (node: DirNode, name: string) => Promise<void>;
  remove: (node: DirNode) => Promise<void>;
}

function Node({ tree, ctx }: { tree: TreeNode; ctx: NodeCtx }) {
  const { node, children, fullPath } = tree;
  const { editing, setEditing } = ctx;
  const child = childLevel(node.level);
  const what = `${lower(node.level)} ${node.name}`;
  const mine = (kind: Editing["kind"]) =>
    editing !== null &&
    editing.kind === kind &&
    (editing.kind === "add" ? editing.parent?.id === node.id : editing.node.id === node.id);
  const counts = child ? `${children.length} ${children.length === 1 ? lower(child) : `${lower(child)}s`}` : "";
  return (
    <li
      class={`dir-node dir-${node.level}`}
      data-testid="dir-node"
      data-node-id={node.id}
      data-level={node.level}
      data-path={fullPath}
    >
      <div class="dir-row">
        <span class="badge dir-level">{LEVEL_LABEL[node.level]}</span>
        {mine("rename") ? (
          <NameForm
            id={`dir-rename-${node.id}`}
            label={`New name of ${what}`}
            initial={node.name}
            submit="Save"
            onSubmit={(name) => ctx.rename(node, name)}
            onCancel={() => setEditing(null)}
          />
        ) : (
          <>
            <span class="dir-name" data-testid="dir-name">
              {node.name}
            </span>
            {child && <span class="muted dir-count">{counts}</span>}
            <span class="dir-actions">
              {child && (
                <button
                  type="button"
                  class="button button-small"
                  data-testid="dir-add"
                  aria-label={`Add ${lower(child)} to ${what}`}
                  onClick={() => setEditing({ kind: "add", parent: node })}
                >
                  Add {lower(child)}
                </button>
              )}
              <button
                type="button"
                class="button button-small"
                data-testid="dir-rename"
                aria-label={`Rename ${what}`}
                onClick={() => setEditing({ kind: "rename", node })}
              >
                Rename
              </button>
              <button
                type="button"
                class="button button-small button-danger"
                data-testid="dir-delete"
                aria-label={`Delete ${what}`}
                onClick={() => setEditing({ kind: "delete", node })}
              >
                Delete
              </button>
            </span>
          </>
        )}
      </div>
      {mine("delete") && <ConfirmDelete node={node} what={what} onDelete={() => ctx.remove(node)} onCancel={() => setEditing(null)} />}
      {(children.length > 0 || mine("add")) && (
        <ul class="dir-children">
          {children.map((c) => (
            <Node key={c.node.id} tree={c} ctx={ctx} />
          ))}
          {mine("add") && child && (
            <li class="dir-node dir-adding">
              <NameForm
                id={`dir-new-${node.id}`}
                label={`Name of the new ${lower(child)} in ${what}`}
                submit={`Add ${lower(child)}`}
                onSubmit={(name) => ctx.add(node, name)}
                onCancel={() => setEditing(null)}
              />
            </li>
          )}
        </ul>
      )}
    </li>
  );
}

/** A one-field form for a node's name; the server's refusal shows under the field. */
function NameForm({
  id,
  label,
  initial = "",
  submit,
  onSubmit,
  onCancel,
}: {
  id: string;
  label: string;
  initial?: string;
  submit: string;
  onSubmit: (name: string) => Promise<void>;
  onCancel: () => void;
}) {
  const [name, setName] = useState(initial);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  // A layout effect: the field has the focus as soon as it shows, so
  // nothing typed right away is lost or selected over.
  useLayoutEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);
  const errId = `${id}-error`;
  const send = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      await onSubmit(name);
    } catch (err) {
      setError(nameError(err));
      input.current?.focus();
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="dir-form" onSubmit={send} data-testid="dir-form" noValidate>
      <label class="label-small" for={id}>
        {label}
      </label>
      <div class="dir-form-row">
        <input
          id={id}
          ref={input}
          class="input"
          value={name}
          onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === "Escape") onCancel();
          }}
          aria-invalid={error ? "true" : undefined}
          aria-describedby={error ? errId : undefined}
          autoComplete="off"
          data-testid="dir-name-input"
        />
        <button type="submit" class="button button-primary button-small" disabled={busy} data-testid="dir-save">
          {submit}
        </button>
        <button type="button" class="button button-small" onClick={onCancel} data-testid="dir-cancel">
          Cancel
        </button>
      </div>
      {error && (
        <p class="field-error" id={errId} role="alert" data-testid="dir-error">
          {error}
        </p>
      )}
    </form>
  );
}

function ConfirmDelete({
  node,
  what,
  onDelete,
  onCancel,
}: {
  node: DirNode;
  what: string;
  onDelete: () => Promise<void>;
  onCancel: () => void;
}) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const confirm = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => confirm.current?.focus(), []);
  const errId = `dir-delete-error-${node.id}`;
  const go = async () => {
    setBusy(true);
    setError("");
    try {
      await onDelete();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div
      class="dir-confirm"
      data-testid="dir-confirm"
      onKeyDown={(e) => {
        if (e.key === "Escape") onCancel();
      }}
    >
      <p>Delete {what}? This cannot be undone.</p>
      <div class="dir-form-row">
        <button
          type="button"
          ref={confirm}
          class="button button-danger button-small"
          disabled={busy}
          onClick={go}
          aria-describedby={error ? errId : undefined}
          data-testid="dir-confirm-delete"
        >
          Delete {lower(node.level)}
        </button>
        <button
          type="button"
          class="button button-small"
          onClick={onCancel}
          data-testid="dir-cancel"
        >
          Cancel
        </button>
      </div>
      {error && (
        <p class="field-error" id={errId} role="alert" data-testid="dir-error">
          {error}
        </p>
      )}
    </div>
  );
}
