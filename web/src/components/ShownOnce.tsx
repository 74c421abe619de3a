// What every dialog that shows a secret exactly once shares (the token
// dialog, the webhook signing-secret dialog): the value in a read-only field
// with its copy button, and closing before it was copied asks once (a
// second close goes through). The value lives only in the caller's props.
import { useState } from "preact/hooks";
import { CopyButton } from "./CopyButton";

/** The test ids of one dialog's parts (the browser tests address them). */
export interface ShownOnceIds {
  /** The read-only field holding the value. */
  value: string;
  copy: string;
  /** The "close anyway?" banner and its two buttons. */
  banner: string;
  cancel: string;
  confirm: string;
}

/**
 * The closing rule: requestClose closes when the value was copied or the
 * question was already asked once, else asks (and answers false, so the
 * dialog stays open); markCopied is for every copy of the value.
 */
export function useShownOnce(onClose: () => void, ids: ShownOnceIds) {
  const [copied, setCopied] = useState(false);
  const [asking, setAsking] = useState(false);
  const [asked, setAsked] = useState(false);
  const requestClose = (): boolean => {
    if (copied || asked) {
      onClose();
      return true;
    }
    setAsking(true);
    setAsked(true);
    window.setTimeout(() => document.querySelector<HTMLElement>(`[data-testid=${ids.cancel}]`)?.focus(), 0);
    return false;
  };
  const markCopied = () => {
    setCopied(true);
    setAsking(false);
  };
  return { requestClose, markCopied, asking, stopAsking: () => setAsking(false) };
}

/** The value in a read-only field (selected on focus) and its copy button. */
export function ShownOnceValue(props: {
  id: string;
  label: string;
  value: string;
  copyLabel: string;
  ids: ShownOnceIds;
  onCopied: () => void;
}) {
  const { id, label, value, copyLabel, ids, onCopied } = props;
  return (
    <>
      <label class="label" for={id}>
        {label}
      </label>
      <div class="token-block">
        <textarea
          id={id}
          class="input mono token-full"
          readOnly
          rows={2}
          value={value}
          data-testid={ids.value}
          autoComplete="off"
          spellcheck={false}
          onFocus={(e) => (e.currentTarget as HTMLTextAreaElement).select()}
          onCopy={onCopied}
        />
        <CopyButton text={value} label={copyLabel} testId={ids.copy} onCopied={onCopied} />
      </div>
    </>
  );
}

/** "You have not copied the <what>: close anyway?", with its two answers. */
export function CloseUncopied(props: { what: string; ids: ShownOnceIds; onBack: () => void; onClose: () => void }) {
  const { what, ids, onBack, onClose } = props;
  return (
    <div class="banner banner-warning" role="alert" data-testid={ids.banner}>
      <p>You have not copied the {what}: it will not be shown again. Close anyway?</p>
      <div class="actions">
        <button type="button" class="button" data-testid={ids.cancel} onClick={onBack}>
          Back to the {what}
        </button>
        <button type="button" class="button button-danger" data-testid={ids.confirm} onClick={onClose}>
          Close anyway
        </button>
      </div>
    </div>
  );
}
