import { describe, expect, it } from "vitest";
import { BASE, legacyRedirect, match, paths, patterns } from "./router";

describe("one URL scheme", () => {
  it("puts every page under /dashboard/organizations/api-keys", () => {
    const all = [
      paths.list,
      paths.create,
      paths.directory,
      paths.activity,
      paths.webhooks,
      paths.webhookNew,
      paths.webhook("wh_1"),
      paths.webhookEdit("wh_1"),
      paths.key("key_1"),
      paths.edit("key_1"),
      paths.explore("key_1"),
    ];
    for (const p of all) expect(p === BASE || p.startsWith(`${BASE}/`)).toBe(true);
    expect(paths.key("key_1")).toBe("/dashboard/organizations/api-keys/key_1");
    expect(paths.edit("key_1")).toBe("/dashboard/organizations/api-keys/key_1/edit");
  });

  it("matches each page's address to its own pattern only", () => {
    const cases: [string, keyof typeof patterns, Record<string, string>][] = [
      [paths.list, "list", {}],
      [paths.create, "create", {}],
      [paths.directory, "directory", {}],
      [paths.activity, "activity", {}],
      [paths.webhooks, "webhooks", {}],
      [paths.webhookNew, "webhookNew", {}],
      [paths.webhook("wh_1"), "webhook", { id: "wh_1" }],
      [paths.webhookEdit("wh_1"), "webhookEdit", { id: "wh_1" }],
      [paths.key("key_1"), "key", { id: "key_1" }],
      [paths.edit("key_1"), "edit", { id: "key_1" }],
      [paths.explore("key_1"), "explore", { id: "key_1" }],
    ];
    for (const [path, page, params] of cases) {
      expect(match(patterns[page], path)).toEqual(params);
      for (const other of Object.keys(patterns) as (keyof typeof patterns)[]) {
        // The app tries the fixed pages first (app.tsx route): "create" is never read as a key id, "new" never as a webhook id.
        const shadowed =
          (["create", "directory", "activity", "webhooks"].includes(page) && other === "key") ||
          (page === "webhookNew" && other === "webhook");
        if (other !== page && !shadowed) expect(match(patterns[other], path)).toBeNull();
      }
    }
  });

  it.each([
    ["/api-keys/key_1", "/dashboard/organizations/api-keys/key_1"],
    ["/api-keys/key_1/edit", "/dashboard/organizations/api-keys/key_1/edit"],
    ["/api-keys/key_1/", "/dashboard/organizations/api-keys/key_1"],
    ["/api-keys", "/dashboard/organizations/api-keys"],
    ["/dashboard/organizations/api-keys/key_1", null],
    ["/api-keysx", null],
    ["/", null],
  ])("redirects the old address %s to %s", (from, to) => {
    expect(legacyRedirect(from)).toBe(to);
  });
});
