import { describe, expect, it } from "vitest";
import { ApiClient } from "./api";
import { mergeUnreadable, unreadableNotice } from "./unreadable";

const broken = { id: "key_AbCdEfGhIjKlMnOp", message: "this stored key could not be read; delete it or contact support" };
const other = { id: "key_QrStUvWxYz012345", message: "the listing's index names this item but it is not stored; contact support" };

describe("unreadableNotice", () => {
  it("is nothing when the list skipped nothing", () => {
    expect(unreadableNotice(undefined, "key")).toBeNull();
    expect(unreadableNotice([], "endpoint")).toBeNull();
  });

  it("names every unreadable key with the server's message and says to delete it through the API", () => {
    const n = unreadableNotice([broken, other], "key");
    expect(n?.title).toBe("2 API keys could not be read and are not listed");
    expect(n?.items).toEqual([broken, other]);
    expect(n?.advice).toContain("DELETE /v1/api-keys/{id}");
    expect(unreadableNotice([broken], "key")?.title).toBe("1 API key could not be read and is not listed");
  });

  it("tells that an unreadable endpoint counts toward the limit until it is deleted, and how", () => {
    const n = unreadableNotice([{ id: "wh_1", message: "this stored item could not be read; contact support" }], "endpoint");
    expect(n?.title).toBe("1 webhook endpoint could not be read and is not listed");
    expect(n?.advice).toContain("20 endpoints");
    expect(n?.advice).toContain("DELETE /v1/webhooks/{id}");
  });
});

describe("mergeUnreadable", () => {
  it("keeps each id once, in the order first met, across pages", () => {
    expect(mergeUnreadable([broken], undefined, [other, broken])).toEqual([broken, other]);
    expect(mergeUnreadable()).toEqual([]);
  });
});

describe("the client", () => {
  it("hands the key list's and the webhook list's unreadable items to the pages", async () => {
    const fetchFn = (async (url: string) => {
      const body = url.includes("/v1/api-keys")
        ? { items: [], next_cursor: null, unreadable: [broken] }
        : { items: [], unreadable: [{ id: "wh_1", message: "this stored item could not be read; contact support" }] };
      return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
    }) as unknown as typeof fetch;
    const c = new ApiClient("https://api.test", "dotenv_x", fetchFn);
    expect((await c.listKeys({ limit: 20, cursor: null })).unreadable).toEqual([broken]);
    expect((await c.listWebhooksPage()).unreadable?.map((u) => u.id)).toEqual(["wh_1"]);
  });
});
