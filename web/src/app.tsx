// The application shell: runtime config, the signed-in session (token in
// sessionStorage only), the header and the routes.
import { createContext } from "preact";
import { useCallback, useContext, useEffect, useMemo, useState } from "preact/hooks";
import { ApiClient, ApiError } from "./api";
import { Loading } from "./components/Errors";
import type { RuntimeConfig } from "./config";
import { navOffers, type Access, type AccessState } from "./access";
import { mayReadAudit } from "./audit";
import { ActivityPage } from "./pages/Activity";
import { DirectoryPage } from "./pages/Directory";
import { Explorer } from "./pages/Explorer";
import { KeyDetail } from "./pages/KeyDetail";
import { KeyForm } from "./pages/KeyForm";
import { KeyList } from "./pages/KeyList";
import { SignIn } from "./pages/SignIn";
import { WebhookDetail } from "./pages/WebhookDetail";
import { WebhookForm } from "./pages/WebhookForm";
import { WebhooksPage } from "./pages/Webhooks";
import { Link, legacyRedirect, match, navigate, paths, patterns, usePath } from "./router";
import { clearToken, loadToken, saveToken } from "./session";
import { useTitle } from "./title";
import { cannotCall } from "./webhooks";

export interface Session {
  client: ApiClient;
  keyId: string;
  keyName: string;
  organizationId: string;
  organizationName: string;
}

interface SessionContextValue {
  session: Session;
  signOut: (reason?: string) => void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

const AccessContext = createContext<Access | null>(null);

/** The signed-in key and the catalog; null while they are read, or when the key cannot read itself. */
export function useAccess(): Access | null {
  return useContext(AccessContext);
}

/** Reads the signed-in key and the catalog once per session. */
function useSignedInAccess(session: Session): AccessState {
  const [access, setAccess] = useState<AccessState>({ state: "loading" });
  useEffect(() => {
    let live = true;
    Promise.all([session.client.permissions(), session.client.getKey(session.keyId)]).then(
      ([catalog, { key }]) => live && setAccess({ state: "known", access: { catalog, key } }),
      () => live && setAccess({ state: "unknown" }),
    );
    return () => {
      live = false;
    };
  }, [session.keyId]);
  return access;
}

export function useSession(): SessionContextValue {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a signed-in page");
  return s;
}

const VERIFY_MESSAGES: Record<string, string> = {
  malformed: "This is not a DotEnv API key. Check that you pasted all of it (it starts with dotenv_).",
  not_found: "This key does not exist: it may have been deleted, or its token was rotated.",
  expired: "This key has expired. Sign in with another key.",
};

/** A token that POST /v1/verify did not accept, in plain words. */
export class SignInError extends Error {}

/** Checks a token with POST /v1/verify and reads the organization's name. */
export async function startSession(config: RuntimeConfig, token: string): Promise<Session> {
  const client = new ApiClient(config.apiBaseUrl, token);
  const v = await client.verify(token);
  if (!v.valid || !v.key) {
    throw new SignInError(VERIFY_MESSAGES[v.code] ?? "This key was not accepted.");
  }
  let organizationName = v.key.organization_id;
  try {
    organizationName = (await client.organization()).name;
  } catch (e) {
    // A key without organizations:read can still manage keys; show the id.
    if (e instanceof ApiError && e.status === 401) throw e;
  }
  return {
    client,
    keyId: v.key.id,
    keyName: v.key.name,
    organizationId: v.key.organization_id,
    organizationName,
  };
}

type State =
  | { kind: "loading" }
  | { kind: "signed-out"; notice?: string }
  | { kind: "signed-in"; session: Session };

export function App({ config }: { config: RuntimeConfig }) {
  const [state, setState] = useState<State>(() => (loadToken() ? { kind: "loading" } : { kind: "signed-out" }));

  const signOut = useCallback((notice?: string) => {
    clearToken();
    setState({ kind: "signed-out", notice });
  }, []);

  const adopt = useCallback(
    (session: Session) => {
      session.client.onUnauthenticated = () =>
        signOut("Your API key is no longer accepted (it may have expired, been rotated or deleted). Sign in again.");
      setState({ kind: "signed-in", session });
    },
    [signOut],
  );

  useEffect(() => {
    const token = loadToken();
    if (!token) return;
    startSession(config, token)
      .then(adopt)
      .catch((e) => {
        if (e instanceof SignInError || (e instanceof ApiError && e.status === 401)) signOut(e.message);
        else setState({ kind: "signed-out", notice: e instanceof Error ? e.message : String(e) });
      });
  }, []);

  const signIn = async (token: string) => {
    const session = await startSession(config, token);
    saveToken(token);
    adopt(session);
  };

  if (state.kind === "loading") return <Loading what="your session" />;
  if (state.kind === "signed-out") return <SignIn onSignIn={signIn} notice={state.notice} />;
  return (
    <SessionContext.Provider value={{ session: state.session, signOut }}>
      <Shell />
    </SessionContext.Provider>
  );
}

function Shell() {
  const { session, signOut } = useSession();
  const path = usePath();
  const page = useMemo(() => route(path), [path]);
  const access = useSignedInAccess(session);
  // The navigation offers a page only to a key that may read it.
  const auditNav = navOffers(access, (a) => mayReadAudit(a.catalog, a.key));
  const webhooksNav = navOffers(access, (a) => cannotCall(a.catalog, a.key, "listWebhooks") === null);
  useEffect(() => {
    const moved = legacyRedirect(path);
    if (moved) navigate(moved + window.location.search, { replace: true });
    else if (path === "/" || path === "/sign-in" || path === "/dashboard" || path === "/dashboard/organizations")
      navigate(paths.list, { replace: true });
  }, [path]);
  useEffect(() => {
    // Move focus to the new page's heading so screen readers announce it.
    document.querySelector<HTMLElement>("main h1")?.focus();
  }, [path]);
  return (
    <AccessContext.Provider value={access.state === "known" ? access.access : null}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link href={paths.list} class="brand">
          DotEnv <span>API Keys</span>
        </Link>
        <nav class="app-nav" aria-label="Dashboard">
          <Link href={paths.list} aria-current={path === paths.list ? "page" : undefined} data-testid="nav-keys">
            API keys
          </Link>
          <Link
            href={paths.directory}
            aria-current={path === paths.directory ? "page" : undefined}
            data-testid="nav-directory"
          >
            Directory
          </Link>
          {auditNav && (
            <Link
              href={paths.activity}
              aria-current={path === paths.activity ? "page" : undefined}
              data-testid="nav-activity"
            >
              Activity
            </Link>
          )}
          {webhooksNav && (
            <Link
              href={paths.webhooks}
              aria-current={path.startsWith(paths.webhooks) ? "page" : undefined}
              data-testid="nav-webhooks"
            >
              Webhooks
            </Link>
          )}
        </nav>
        <div class="who" data-testid="signed-in-as">
          <span class="org" data-testid="org-name">
            {session.organizationName}
          </span>
          <span class="muted">
            signed in with <span data-testid="session-key-name">{session.keyName}</span>
          </span>
          <button type="button" class="button button-small" data-testid="sign-out" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" class="main">
        {page}
      </main>
    </AccessContext.Provider>
  );
}

function route(path: string) {
  let m: Record<string, string> | null;
  if (match(patterns.list, path)) return <KeyList />;
  if (match(patterns.create, path)) return <KeyForm />;
  if (match(patterns.directory, path)) return <DirectoryPage />;
  if (match(patterns.activity, path)) return <ActivityPage />;
  // Webhook pages before the key pages: "webhooks" is never read as a key id.
  if (match(patterns.webhooks, path)) return <WebhooksPage />;
  if (match(patterns.webhookNew, path)) return <WebhookForm />;
  if ((m = match(patterns.webhookEdit, path))) return <WebhookForm key={`edit-${m.id}`} id={m.id} />;
  if ((m = match(patterns.webhook, path))) return <WebhookDetail key={m.id} id={m.id} />;
  if ((m = match(patterns.explore, path))) return <Explorer key={m.id} id={m.id} />;
  if ((m = match(patterns.edit, path))) return <KeyForm key={`edit-${m.id}`} id={m.id} />;
  if ((m = match(patterns.key, path))) return <KeyDetail key={m.id} id={m.id} />;
  if (
    legacyRedirect(path) ||
    path === "/" ||
    path === "/sign-in" ||
    path === "/dashboard" ||
    path === "/dashboard/organizations"
  )
    return <Loading what="your keys" />;
  return <NotFound />;
}

function NotFound() {
  useTitle("Page not found");
  return (
    <section>
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        There is nothing at this address. <Link href={paths.list}>Back to API keys</Link>
      </p>
    </section>
  );
}
