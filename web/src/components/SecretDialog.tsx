// Shows a webhook endpoint's signing secret exactly once (after a create or
// a rotation). The secret lives only in this dialog's props: nothing here
// writes it to storage, the address or history state, and closing the dialog
// drops it. Closing before copying asks once, as the token dialog does.
import { useState } from "preact/hooks";
import { CopyButton } from "./CopyButton";
import { Dialog } from "./Dialog";
import "./TokenDialog.css";

interface Props {
  secret: string;
  url: string;
  rotated?: boolean;
  onClose: () => void;
}

export function SecretDialog({ secret, url, rotated, onClose }: Props) {
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
    window.setTimeout(() => document.querySelector<HTMLElement>("[data-testid=cancel-close-secret]")?.focus(), 0);
    return false;
  };
  const markCopied = () => {
    setCopied(true);
    setAsking(false);
  };
  return (
    <Dialog
      title={rotated ? "New signing secret" : "Endpoint added: its signing secret"}
      onClose={requestClose}
      testId="secret-dialog"
      initialFocus="[data-testid=copy-secret]"
      wide
    >
      <p class="banner banner-warning">
        <strong>This secret is shown only once.</strong> Copy it into the service behind{" "}
        <code class="webhook-url-inline">{url}</code>: it verifies the <code>webhook-signature</code> header of every
        delivery (Standard Webhooks). If you lose it, rotate it.
        {rotated && " The previous secret keeps signing for 24 hours: until then each delivery carries both signatures."}
      </p>
      <label class="label" for="new-secret">
        Signing secret
      </label>
      <div class="token-block">
        <textarea
          id="new-secret"
          class="input mono token-full"
          readOnly
          rows={2}
          value={secret}
          data-testid="secret-value"
          autoComplete="off"
          spellcheck={false}
          onFocus={(e) => (e.currentTarget as HTMLTextAreaElement).select()}
          onCopy={markCopied}
        />
        <CopyButton text={secret} label="Copy secret" testId="copy-secret" onCopied={markCopied} />
      </div>
      {asking && (
        <div class="banner banner-warning" role="alert" data-testid="secret-close-confirm">
          <p>You have not copied the secret: it will not be shown again. Close anyway?</p>
          <div class="actions">
            <button type="button" class="button" data-testid="cancel-close-secret" onClick={() => setAsking(false)}>
              Back to the secret
            </button>
            <button type="button" class="button button-danger" data-testid="confirm-close-secret" onClick={onClose}>
              Close anyway
            </button>
          </div>
        </div>
      )}
      <div class="actions">
        <button type="button" class="button button-primary" data-testid="close-secret-dialog" onClick={requestClose}>
          I have stored it, close
        </button>
      </div>
    </Dialog>
  );
}
