// Hands a freshly shown token from the token dialog to the API Explorer, in
// memory only (never storage, URL or history state). Taking it clears it.
let carried: { keyId: string; token: string } | null = null;

export function carryToken(keyId: string, token: string): void {
  carried = { keyId, token };
}

export function takeToken(keyId: string): string | null {
  const c = carried;
  carried = null;
  return c && c.keyId === keyId ? c.token : null;
}

// One-shot notices shown by the next page (e.g. "Key deleted").
let flash: string | null = null;

export function setFlash(message: string): void {
  flash = message;
}

export function takeFlash(): string | null {
  const f = flash;
  flash = null;
  return f;
}
