// Shows a webhook endpoint's signing secret exactly once (after a create or
// a rotation). The secret lives only in this dialog's props: nothing here
// writes it to storage, the address or history state, and closing the dialog
// drops it. Closing before copying asks once (ShownOnce.tsx, as the token
// dialog does).
import { Dialog } from "./Dialog";
import { CloseUncopied, ShownOnceValue, useShownOnce, type ShownOnceIds } from "./ShownOnce";
import "./TokenDialog.css";

interface Props {
  secret: string;
  url: string;
  rotated?: boolean;
  onClose: () => void;
}

const IDS: ShownOnceIds = {
  value: "secret-value",
  copy: "copy-secret",
  banner: "secret-close-confirm",
  cancel: "cancel-close-secret",
  confirm: "confirm-close-secret",
};

export function SecretDialog({ secret, url, rotated, onClose }: Props) {
  const { requestClose, markCopied, asking, stopAsking } = useShownOnce(onClose, IDS);
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
      <ShownOnceValue id="new-secret" label="Signing secret" value={secret} copyLabel="Copy secret" ids={IDS} onCopied={markCopied} />
      {asking && <CloseUncopied what="secret" ids={IDS} onBack={stopAsking} onClose={onClose} />}
      <div class="actions">
        <button type="button" class="button button-primary" data-testid="close-secret-dialog" onClick={requestClose}>
          I have stored it, close
        </button>
      </div>
    </Dialog>
  );
}
