// Shows a new token exactly once. The token lives only in the props of this
// dialog (memory of the page that created it): closing it or leaving the page
// drops it. Nothing here writes to storage, the URL or history state. The
// snippets show a placeholder; only their copy buttons carry the token, to the
// clipboard.
import { useState } from "preact/hooks";
import { carryToken } from "../carry";
import { formatDate } from "../format";
import { previousTokenNotice } from "../grace";
import { tokenSnippets } from "../keypage";
import { navigate, paths } from "../router";
import { CopyButton } from "./CopyButton";
import { Dialog } from "./Dialog";
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

export function TokenDialog({ token, keyId, keyName, rotated, previousUntil, onClose }: Props) {
  const [copied, setCopied] = useState(false);
  const [asking, setAsking] = useState(false);
  const [asked, setAsked] = useState(false);
  const snippets = tokenSnippets(token);

  // Closing before copying asks once; a second close goes through.
  const requestClose = (): boolean => {
    if (copied || asked) {
      onClose();
      return true;
    }
    setAsking(true);
    setAsked(true);
    window.setTimeout(() => document.querySelector<HTMLElement>("[data-testid=cancel-close-token]")?.focus(), 0);
    return false;
  };
  const openExplorer = () => {
    carryToken(keyId, token);
    navigate(paths.explore(keyId));
  };
  const markCopied = () => {
    setCopied(true);
    setAsking(false);
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
      <label class="label" for="new-token">
        Token
      </label>
      <div class="token-block">
        <textarea
          id="new-token"
          class="input mono token-full"
          readOnly
          rows={2}
          value={token}
          data-testid="token-value"
          autoComplete="off"
          spellcheck={false}
          onFocus={(e) => (e.currentTarget as HTMLTextAreaElement).select()}
          onCopy={markCopied}
        />
        <CopyButton text={token} label="Copy token" testId="copy-token" onCopied={markCopied} />
      </div>

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
      {asking && (
        <div class="banner banner-warning" role="alert" data-testid="close-confirm">
          <p>You have not copied the token: it will not be shown again. Close anyway?</p>
          <div class="actions">
            <button type="button" class="button" data-testid="cancel-close-token" onClick={() => setAsking(false)}>
              Back to the token
            </button>
            <button type="button" class="button button-danger" data-testid="confirm-close-token" onClick={onClose}>
              Close anyway
            </button>
          </div>
        </div>
      )}
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
