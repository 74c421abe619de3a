// The signed-in API key token lives in sessionStorage only: it survives a
// reload of this tab but not closing it, and is never in localStorage, a
// cookie or the URL. Tokens of keys created or rotated here are never stored.
const STORAGE_KEY = "dotenv.apikeys.session";

export function loadToken(): string | null {
  try {
    return window.sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  try {
    window.sessionStorage.setItem(STORAGE_KEY, token);
  } catch {
    // Storage disabled: the session lasts until the page is reloaded.
  }
}

export function clearToken(): void {
  try {
    window.sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing to clear
  }
}
