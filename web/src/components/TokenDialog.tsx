// Shows a new token exactly once. The token lives only in the props of this
// dialog (memory of the page that created it): closing it or leaving the page
// drops it. Nothing here writes to storage, the URL or history state. The
// snippets show a placeholder; only their copy buttons carry the token, to the
// clipboard.
import { carryToken } from "../carry";
import { formatDate } from "../format";
import { previousTokenNotice } from "../grace";
import { tokenSnippets } from "../keypage";
import { navigate, paths } from "../router";
import { CopyButton } from "./CopyButton";
import { Dialog } from "./Dialog";
import { CloseUncopied, ShownOnceValue, useShownOnce, type ShownOnceIds } from "./ShownOnce";
import "./TokenDialog.css";

interface Props {
  token: string;
  keyId: string;
  keyName: string;
  rotated?: boolean;
  /** After a rotation with a grace period: until when the previous token still works. */
  previousUntil?: string | null;
  onClose: () => void;
}

const IDS: ShownOnceIds = {
  value: "token-value",
  copy: "copy-token",
  banner: "close-confirm",
  cancel: "cancel-close-token",
  confirm: "confirm-close-token",
};

export function TokenDialog({ token, keyId, keyName, rotated, previousUntil, onClose }: Props) {
  const { requestClose, markCopied, asking, stopAsking } = useShownOnce(onClose, IDS);
  const snippets = tokenSnippets(token);
  const openExplorer = () => {
    carryToken(keyId, token);
    navigate(paths.explore(keyId));
  };
  return (
    <Dialog
      title={rotated ? `New token for “${keyName}”` : `Your API key “${keyName}”`}
      onClose={requestClose}
      testId="token-dialog"
      initialFocus="[data-testid=copy-token]"
      wide
    >
      <p class="banner banner-warning">
        <strong>This token is shown only once.</strong> Copy it now: you cannot view it again. If you lose it, rotate or
        recreate the key.
        {rotated && previousTokenNotice(previousUntil, formatDate)}
      </p>
      <ShownOnceValue id="new-token" label="Token" value={token} copyLabel="Copy token" ids={IDS} onCopied={markCopied} />

      <h3 class="snippets-title">Store it in your CI</h3>
      <p class="hint">
        Each copy button puts the command <em>with the token</em> on your clipboard; the commands below show a
        placeholder.
      </p>
      <ul class="token-snippets" data-testid="token-snippets">
        {snippets.map((s) => (
          <li key={s.id} data-testid={`snippet-${s.id}`}>
            <span class="snippet-label" id={`snippet-label-${s.id}`}>
              {s.label}
            </span>
            <code class="snippet-code" data-testid={`snippet-${s.id}-text`}>
              {s.shown}
            </code>
            <CopyButton
              text={s.copied}
              label="Copy"
              ariaLabel={s.copyName}
              testId={`copy-snippet-${s.id}`}
              onCopied={markCopied}
              describedBy={`snippet-label-${s.id}`}
            />
          </li>
        ))}
      </ul>
      <ul class="guidance">
        <li>Never share it or commit it to source control. Treat it like a password.</li>
        <li>If it leaks, rotate the key immediately, then delete the old one.</li>
        <li>Give each integration its own key so you can revoke one without affecting the others.</li>
      </ul>
      {asking && <CloseUncopied what="token" ids={IDS} onBack={stopAsking} onClose={onClose} />}
      <div class="actions">
        <button type="button" class="button" data-testid="open-explorer" onClick={openExplorer}>
          Open in API Explorer
        </button>
        <button type="button" class="button button-primary" data-testid="close-token-dialog" onClick={requestClose}>
          I have stored it, close
        </button>
      </div>
    </Dialog>
  );
}
