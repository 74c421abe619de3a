// The key form's "Allowed networks" field (allowed_cidrs, docs/http-api.md):
// one network per line, blank lines ignored. The syntax and the normal form
// are the server's to check (it answers allowed_cidrs[i] errors); this
// module only splits the text, says whether the list changed and places the
// server's errors on their line.
import type { ApiKey } from "./types";

/** The networks of the field's text: one per line, trimmed, blank lines dropped. */
export function parseNetworks(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

/** The field's text for a key's list (edit). */
export function networksText(key: Pick<ApiKey, "allowed_cidrs"> | null | undefined): string {
  return (key?.allowed_cidrs ?? []).join("\n");
}

/**
 * What the request body holds for the field: on create the list when it is
 * not empty; on edit the list when it differs from the key's ([] clears it),
 * undefined otherwise.
 */
export function networksForRequest(text: string, original?: Pick<ApiKey, "allowed_cidrs">): string[] | undefined {
  const list = parseNetworks(text);
  if (!original) return list.length > 0 ? list : undefined;
  const before = original.allowed_cidrs ?? [];
  const same = list.length === before.length && list.every((n, i) => n === before[i]);
  return same ? undefined : list;
}

/** Whether a server field error belongs to the field ("allowed_cidrs" or "allowed_cidrs[3]"). */
export function isNetworksField(field: string): boolean {
  return /^(body\.)?allowed_cidrs(\[\d+\])?$/.test(field);
}

/** A server error of the field in words, naming the line it is about: "Line 2 (“10.0.0.0/33”): …". */
export function networkErrorText(field: string, message: string, sent: string[]): string {
  const m = /\[(\d+)\]$/.exec(field);
  if (!m) return message;
  const i = Number(m[1]);
  const value = sent[i];
  return value === undefined ? message : `Line ${i + 1} (“${value}”): ${message}`;
}

/** The summary's line about networks, or null when the key may be used from anywhere. */
export function networksSummary(text: string): string | null {
  const list = parseNetworks(text);
  if (list.length === 0) return null;
  return `Usable only from ${list.length === 1 ? "the network" : "the networks"} ${list.join(", ")}.`;
}
