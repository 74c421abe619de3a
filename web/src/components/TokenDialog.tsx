// Shows a new token exactly once. The token lives only in the props of this
// dialog (memory of the page that created it): closing it or leaving the page
// drops it. Nothing here writes to storage, the URL or history state.
import { carryToken } from "../carry";
import { navigate, paths } from "../router";
import { CopyButton } from "./CopyButton";
import { Dialog } from "./Dialog";

interface Props {
  token: string;
  keyId: string;
  keyName: string;
  rotated?: boolean;
  onClose: () => void;
}

export function TokenDialog({ token, keyId, keyName, rotated, onClose }: Props) {
  const openExplorer = () => {
    carryToken(keyId, token);
    navigate(paths.explore(keyId));
  };
  return (
    <Dialog
      title={rotated ? `New token for “${keyName}”` : `Your API key “${keyName}”`}
      onClose={onClose}
      testId="token-dialog"
      initialFocus="[data-testid=copy-token]"
    >
      <p class="banner banner-warning">
        <strong>This token is shown only once.</strong> Copy it now: you cannot view it again. If you lose it, rotate or
        recreate the key.
        {rotated && " The previous token has stopped working."}
      </p>
      <label class="label" for="new-token">
        Token
      </label>
      <div class="token-row">
        <input
          id="new-token"
          class="input mono token"
          readOnly
          value={token}
          data-testid="token-value"
          autoComplete="off"
          spellcheck={false}
          onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
        />
        <CopyButton text={token} label="Copy token" testId="copy-token" />
      </div>
      <ul class="guidance">
        <li>Store it in a secrets manager or your CI's secret store.</li>
        <li>Never share it or commit it to source control. Treat it like a password.</li>
        <li>If it leaks, rotate the key immediately, then delete the old one.</li>
        <li>Give each integration its own key so you can revoke one without affecting the others.</li>
      </ul>
      <div class="actions">
        <button type="button" class="button" data-testid="open-explorer" onClick={openExplorer}>
          Open in API Explorer
        </button>
        <button type="button" class="button button-primary" data-testid="close-token-dialog" onClick={onClose}>
          I have stored it, close
        </button>
      </div>
    </Dialog>
  );
}
