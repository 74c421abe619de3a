// A dialog that asks before one action: Cancel (focused first) and a
// confirm button that runs the action, disabled while it runs; a failure is
// said in the dialog, which stays open. Test ids follow one scheme from
// name: cancel-<name>, confirm-<name>, <name>-error.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { Dialog } from "./Dialog";
import { errorText } from "./Errors";

interface Props {
  title: string;
  testId: string;
  /** The action's name in the test ids ("rotate-secret"). */
  name: string;
  /** The confirm button's label, and while the action runs. */
  confirm: string;
  running: string;
  onCancel: () => void;
  /** The action; what it throws is shown in the dialog. */
  onConfirm: () => Promise<void>;
  children: ComponentChildren;
}

export function ConfirmDialog({ title, testId, name, confirm, running, onCancel, onConfirm, children }: Props) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  };
  return (
    <Dialog title={title} onClose={onCancel} testId={testId} initialFocus={`[data-testid=cancel-${name}]`}>
      {children}
      {error && (
        <p class="field-error" role="alert" data-testid={`${name}-error`}>
          {error}
        </p>
      )}
      <div class="actions">
        <button type="button" class="button" data-testid={`cancel-${name}`} onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="button button-danger" disabled={busy} data-testid={`confirm-${name}`} onClick={run}>
          {busy ? running : confirm}
        </button>
      </div>
    </Dialog>
  );
}
