// The dashboard's rules answer exactly like the server: the cases of
// fixtures/rules.json are computed by shared/authz (see fixtures/rules.ts),
// and the dashboard decides from GET /v1/permissions (fixtures/catalog.json)
// alone.
import { describe, expect, it } from "vitest";
import { catalog } from "./fixtures/catalog";
import { rules } from "./fixtures/rules";
import { grantAllows, grantCovers, groupFor, type PlacedGrant, scopeLevelsFor } from "./rules";

const nodes = new Map(rules.nodes.map((n) => [n.id, n]));

function place(text: string): PlacedGrant {
  const at = text.indexOf("@");
  if (at < 0) return { permission: text, scope: null };
  const n = nodes.get(text.slice(at + 1));
  if (!n) throw new Error(`unknown node in ${text}`);
  return { permission: text.slice(0, at), scope: { level: n.level, id: n.id, lineage: n.lineage } };
}

function groupName(text: string): string | undefined {
  return groupFor(catalog, place(text).permission)?.name;
}

const grants = Object.keys(rules.covers);

describe("golden rules (shared/authz)", () => {
  it("has cases for every permission and wildcard of the catalog", () => {
    const names = new Set(rules.scopable.map(([p]) => p));
    for (const g of catalog.groups) {
      expect(names.has(g.wildcard.name)).toBe(true);
      for (const p of g.permissions) expect(names.has(p.name)).toBe(true);
    }
    expect(grants.length).toBeGreaterThan(100);
  });

  it("scopes each permission and wildcard to the same levels", () => {
    const wrong = rules.scopable
      .filter(([perm, level, ok]) => {
        const mine = level === "organization" || (scopeLevelsFor(catalog, perm) as string[]).includes(level);
        return mine !== ok;
      })
      .map(([perm, level, ok]) => `${perm} on a ${level}: server ${ok ? "allows" : "refuses"}`);
    expect(wrong).toEqual([]);
  });

  it("allows each permission on each node like the server", () => {
    const targets = ["", ...rules.nodes.map((n) => n.id)];
    const wrong: string[] = [];
    for (const g of grants) {
      const want = new Set(rules.allows[g]);
      const group = groupFor(catalog, place(g).permission)!;
      for (const p of group.permissions) {
        for (const id of targets) {
          const lineage = id ? nodes.get(id)!.lineage : null;
          const got = grantAllows(catalog, place(g), p.name, lineage);
          const pair = id ? `${p.name}@${id}` : p.name;
          if (got !== want.has(pair)) wrong.push(`${g} → ${pair}: server ${want.has(pair) ? "allows" : "refuses"}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("lets a grant give another exactly when the server does (no escalation)", () => {
    const wrong: string[] = [];
    let covered = 0;
    for (const h of grants) {
      const want = new Set(rules.covers[h]);
      for (const w of grants) {
        if (groupName(h) !== groupName(w)) continue;
        const got = grantCovers(catalog, place(h), place(w));
        if (got) covered++;
        if (got !== want.has(w)) wrong.push(`${h} gives ${w}: server ${want.has(w) ? "yes" : "no"}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(covered).toBeGreaterThan(grants.length);
  });
});
