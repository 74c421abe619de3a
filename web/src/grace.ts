// Rules of a rotation's grace period on the dashboard (docs/http-api.md,
// "Rotate a key"): the choices the rotate dialog offers, and what the key
// page shows while the previous token still works.
import type { ApiKey } from "./types";

/** The longest grace the server accepts (7 days, in seconds). */
export const MAX_GRACE_SECONDS = 604800;

/** One choice of the rotate dialog. */
export interface GraceChoice {
  id: "none" | "1h" | "1d" | "7d";
  seconds: number;
  label: string;
}

/** What the rotate dialog offers: none (the replaced token stops at once), 1 hour, 1 day, 7 days. */
export const GRACE_CHOICES: GraceChoice[] = [
  { id: "none", seconds: 0, label: "None: the current token stops working at once" },
  { id: "1h", seconds: 3600, label: "1 hour" },
  { id: "1d", seconds: 86400, label: "1 day" },
  { id: "7d", seconds: MAX_GRACE_SECONDS, label: "7 days" },
];

/** A grace period in words: "1 hour", "1 day", "7 days", "90 minutes", "none". */
export function graceWords(seconds: number): string {
  if (!seconds || seconds <= 0) return "none";
  const unit = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;
  if (seconds % 86400 === 0) return unit(seconds / 86400, "day");
  if (seconds % 3600 === 0) return unit(seconds / 3600, "hour");
  if (seconds % 60 === 0) return unit(seconds / 60, "minute");
  return unit(seconds, "second");
}

/** The previous token of a key while its grace runs; null when none runs (absent, or its instant has passed). */
export interface PreviousToken {
  hint: string;
  expiresAt: string;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  lastUsedUserAgent: string | null;
}

export function previousToken(key: ApiKey, now: number): PreviousToken | null {
  const until = key.previous_token_expires_at;
  if (!until) return null;
  const t = new Date(until).getTime();
  if (Number.isNaN(t) || t <= now) return null;
  return {
    hint: key.previous_token_hint ?? "",
    expiresAt: until,
    lastUsedAt: key.previous_token_last_used_at ?? null,
    lastUsedIp: key.previous_token_last_used_ip ?? null,
    lastUsedUserAgent: key.previous_token_last_used_user_agent ?? null,
  };
}

/** What the rotate dialog says happens to the current token. */
export function rotateConsequence(seconds: number): string {
  return seconds > 0
    ? `The current token keeps working for ${graceWords(seconds)} after the rotation, then stops: move every integration to the new token before then.`
    : "The current token stops working at once: every integration using it fails until you give it the new token.";
}

/** What the token dialog says about the replaced token after a rotation. */
export function previousTokenNotice(previousUntil: string | null | undefined, format: (iso: string) => string): string {
  return previousUntil
    ? ` The previous token keeps working until ${format(previousUntil)}.`
    : " The previous token has stopped working.";
}

/**
 * Whether a rotation of the key may keep its current token for a while: not
 * for a revoked key, whose token was reported as leaked and stays dead
 * (docs/http-api.md, "Rotating a revoked key").
 */
export function graceOffered(key: Pick<ApiKey, "status">): boolean {
  return (key.status as string) !== "revoked";
}
