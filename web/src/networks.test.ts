import { describe, expect, it } from "vitest";
import { isNetworksField, networkErrorText, networksForRequest, networksSummary, parseNetworks } from "./networks";

describe("parseNetworks", () => {
  it.each<[string, string, string[]]>([
    ["empty", "", []],
    ["blank lines only", "\n  \r\n", []],
    ["one per line, trimmed, CRLF too", " 203.0.113.0/24\r\n\n2001:db8::/32 \n198.51.100.7", ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]],
    ["kept as typed: the server checks and normalizes", "10.0.0.1/8", ["10.0.0.1/8"]],
  ])("%s", (_, text, want) => expect(parseNetworks(text)).toEqual(want));
});

describe("networksForRequest", () => {
  it.each<[string, string, { allowed_cidrs: string[] } | undefined, string[] | undefined]>([
    ["create, empty: left out", "", undefined, undefined],
    ["create, given", "10.0.0.0/8", undefined, ["10.0.0.0/8"]],
    ["edit, unchanged: left out", "10.0.0.0/8\n", { allowed_cidrs: ["10.0.0.0/8"] }, undefined],
    ["edit, anywhere unchanged: left out", "", { allowed_cidrs: [] }, undefined],
    ["edit, cleared: [] (anywhere)", " ", { allowed_cidrs: ["10.0.0.0/8"] }, []],
    ["edit, changed: the whole list", "10.0.0.0/8\n192.0.2.0/24", { allowed_cidrs: ["10.0.0.0/8"] }, ["10.0.0.0/8", "192.0.2.0/24"]],
  ])("%s", (_, text, original, want) => expect(networksForRequest(text, original)).toEqual(want));
});

describe("the server's errors of the field", () => {
  it.each<[string, boolean]>([
    ["allowed_cidrs", true],
    ["allowed_cidrs[0]", true],
    ["allowed_cidrs[31]", true],
    ["body.allowed_cidrs[2]", true],
    ["allowed_cidrsx", false],
    ["name", false],
  ])("%s belongs to the field: %s", (field, want) => expect(isNetworksField(field)).toBe(want));

  const sent = ["10.0.0.0/8", "10.0.0.1/8", "nope"];
  it.each<[string, string, string]>([
    ["allowed_cidrs[1]", "Use 10.0.0.0/8.", "Line 2 (“10.0.0.1/8”): Use 10.0.0.0/8."],
    ["allowed_cidrs[2]", "Not a network.", "Line 3 (“nope”): Not a network."],
    ["allowed_cidrs[9]", "Not a network.", "Not a network."],
    ["allowed_cidrs", "At most 32 networks.", "At most 32 networks."],
  ])("%s", (field, message, want) => expect(networkErrorText(field, message, sent)).toBe(want));
});

describe("networksSummary", () => {
  it.each<[string, string | null]>([
    ["", null],
    ["203.0.113.0/24", "Usable only from the network 203.0.113.0/24."],
    ["203.0.113.0/24\n2001:db8::/32", "Usable only from the networks 203.0.113.0/24, 2001:db8::/32."],
  ])("%j", (text, want) => expect(networksSummary(text)).toBe(want));
});
