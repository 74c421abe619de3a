import { useState } from "preact/hooks";
import { errorText } from "../components/Errors";
import { useTitle } from "../title";

interface Props {
  onSignIn: (token: string) => Promise<void>;
  notice?: string;
}

export function SignIn({ onSignIn, notice }: Props) {
  useTitle("Sign in");
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) {
      setError("Paste an API key token to sign in.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSignIn(t);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <main id="main" class="signin">
      <h1>Sign in to API Keys</h1>
      <p>
        Paste an API key of your organization. The dashboard can do what that key can do, nothing more.
      </p>
      <p class="hint" data-testid="signin-where">
        Where the owner token comes from: the first <code>make run</code> (or <code>edge serve</code> on a new data
        folder) prints it once; <code>edge bootstrap</code> prints one for a new organization; locked out,{" "}
        <code>edge recover --organization org_…</code> prints a new one for an existing organization.
      </p>
      {notice && (
        <p class="banner banner-info" role="status" data-testid="signin-notice">
          {notice}
        </p>
      )}
      <form method="post" onSubmit={submit} noValidate data-testid="signin-form">
        <label class="label" for="signin-token">
          API key token
        </label>
        <input
          id="signin-token"
          class="input mono"
          type="password"
          name="token"
          autoComplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
          aria-invalid={error ? "true" : undefined}
          aria-describedby={error ? "signin-error" : "signin-hint"}
          data-testid="signin-token"
          required
        />
        <p class="hint" id="signin-hint">
          Kept in this browser tab only (sessionStorage) until you sign out or close the tab.
        </p>
        {error && (
          <p class="field-error" id="signin-error" role="alert" data-testid="signin-error">
            {error}
          </p>
        )}
        <button type="submit" class="button button-primary" disabled={busy} data-testid="signin-submit">
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
