// Rules of a key's usage panel (GET /v1/api-keys/{id}/usage): the bars of
// the 30-day chart, and the words of its text alternative.
import type { KeyUsage, UsageDay } from "./types";

/** Words for the server's stable denial codes; an unknown code is shown as it is. */
const DENIED: Record<string, string> = {
  forbidden: "not permitted",
  expired: "key expired",
  ip_not_allowed: "address not allowed",
  revoked: "key revoked",
};

export function deniedReason(code: string): string {
  return DENIED[code] ?? code;
}

/** "2 not permitted, 1 key expired" (most first), or "" when none. */
export function deniedByText(by: Record<string, number> | undefined): string {
  return Object.entries(by ?? {})
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([code, n]) => `${n} ${deniedReason(code)}`)
    .join(", ");
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The chart's text alternative: the totals of the period, with the reasons of the denials. */
export function usageSummary(u: KeyUsage): string {
  const { allowed, denied, denied_by } = u.totals;
  if (allowed === 0 && denied === 0) return `No verifications from ${u.from} to ${u.to}.`;
  const why = deniedByText(denied_by);
  return `${plural(allowed, "verification", "verifications")} allowed and ${denied} denied${why ? ` (${why})` : ""} from ${u.from} to ${u.to}.`;
}

/** One day's bar: heights as fractions (0..1) of the busiest day's total. */
export interface Bar extends UsageDay {
  allowedPart: number;
  deniedPart: number;
}

export function chartBars(days: UsageDay[]): Bar[] {
  const max = Math.max(1, ...days.map((d) => d.allowed + d.denied));
  return days.map((d) => ({ ...d, allowedPart: d.allowed / max, deniedPart: d.denied / max }));
}

/** The busiest day's total (the chart's scale), at least 1. */
export function chartMax(days: UsageDay[]): number {
  return Math.max(1, ...days.map((d) => d.allowed + d.denied));
}

const dayFmt = new Intl.DateTimeFormat("en", { month: "short", day: "numeric", timeZone: "UTC" });

/** "Nov 29" for the UTC date "2026-11-29" (the days are UTC dates). */
export function dayLabel(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? date : dayFmt.format(d);
}
