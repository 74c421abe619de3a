// The client's calls of the issue 11 API: rotation with a grace period, the
// end of a grace, a key's usage and the audit trail with its export.
import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, auditQuery } from "./api";

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function fake(status: number, body: string, contentType = "application/json") {
  const sent: Sent[] = [];
  const fetchFn = (async (url: string, init: RequestInit) => {
    sent.push({ url, method: init.method ?? "GET", headers: init.headers as Record<string, string>, body: init.body as string | undefined });
    return new Response(status === 204 ? null : body, { status, headers: { "Content-Type": contentType } });
  }) as unknown as typeof fetch;
  return { sent, client: new ApiClient("https://api.test/", "dotenv_secret_token", fetchFn) };
}

describe("rotation with a grace period", () => {
  it("sends {grace_seconds} only when there is a grace", async () => {
    const f = fake(200, `{"id":"key_1","token":"t"}`);
    await f.client.rotateKey("key_1", 3600);
    await f.client.rotateKey("key_1");
    expect(f.sent.map((s) => [s.method, s.url, s.body])).toEqual([
      ["POST", "https://api.test/v1/api-keys/key_1/rotate", `{"grace_seconds":3600}`],
      ["POST", "https://api.test/v1/api-keys/key_1/rotate", undefined],
    ]);
  });
  it("ends a grace with DELETE …/previous-token, and a 404 is an ApiError", async () => {
    const ok = fake(204, "");
    await ok.client.revokePreviousToken("key_1");
    expect(ok.sent[0].method).toBe("DELETE");
    expect(ok.sent[0].url).toBe("https://api.test/v1/api-keys/key_1/previous-token");
    const none = fake(404, `{"code":"not_found","detail":"no grace period runs"}`, "application/problem+json");
    await expect(none.client.revokePreviousToken("key_1")).rejects.toBeInstanceOf(ApiError);
  });
});

describe("usage and audit", () => {
  it("reads a key's usage", async () => {
    const f = fake(200, `{"key_id":"key_1","days":[]}`);
    await f.client.keyUsage("key 1");
    expect(f.sent[0].url).toBe("https://api.test/v1/api-keys/key%201/usage");
  });
  it("lists audit events with the filters and the cursor in the query", async () => {
    const f = fake(200, `{"items":[],"next_cursor":null}`);
    await f.client.listAuditEvents({ key_id: "key_1", action: "key.updated", since: "2026-11-01T00:00:00Z" }, { limit: 50, cursor: "c1" });
    expect(f.sent[0].url).toBe(
      "https://api.test/v1/audit-events?key_id=key_1&action=key.updated&since=2026-11-01T00%3A00%3A00Z&limit=50&cursor=c1",
    );
    expect(auditQuery({}, {})).toBe("");
    expect(auditQuery({ action: "  " }, {})).toBe("");
  });
  it.each([
    ["ndjson", "application/x-ndjson"],
    ["csv", "text/csv"],
  ] as const)("exports %s with the Accept header and the token in the header only", async (format, accept) => {
    const f = fake(200, "a,b\n", accept);
    const blob = await f.client.exportAuditEvents({ action: "key.deleted" }, format);
    expect(f.sent[0].headers.Accept).toBe(accept);
    expect(f.sent[0].headers.Authorization).toBe("Bearer dotenv_secret_token");
    expect(f.sent[0].url).toBe("https://api.test/v1/audit-events?action=key.deleted");
    expect(f.sent[0].url).not.toContain("dotenv_secret_token");
    expect(blob.type).toBe(accept);
    expect(await blob.text()).toBe("a,b\n");
  });
  it.each([
    ["ndjson", "application/x-ndjson", ['{"id":"e3"}\n{"id":"e2"}\n', '{"id":"e1"}\n'], '{"id":"e3"}\n{"id":"e2"}\n{"id":"e1"}\n'],
    ["csv", "text/csv", ["id,at\ne3,t3\ne2,t2\n", "id,at\ne1,t1\n"], "id,at\ne3,t3\ne2,t2\ne1,t1\n"],
  ] as const)("follows an export's Link rel=next parts (Lambda) and joins them: %s", async (format, accept, parts, joined) => {
    const sent: string[] = [];
    const fetchFn = (async (url: string) => {
      sent.push(url);
      const i = sent.length - 1;
      const headers: Record<string, string> = { "Content-Type": accept };
      if (i < parts.length - 1) headers.Link = `<?action=key.deleted&cursor=c${i + 1}>; rel="next"`;
      return new Response(parts[i], { status: 200, headers });
    }) as unknown as typeof fetch;
    const client = new ApiClient("https://api.test/prod/", "dotenv_secret_token", fetchFn);
    const blob = await client.exportAuditEvents({ action: "key.deleted" }, format);
    expect(sent).toEqual([
      "https://api.test/prod/v1/audit-events?action=key.deleted",
      "https://api.test/prod/v1/audit-events?action=key.deleted&cursor=c1",
    ]);
    expect(await blob.text()).toBe(joined);
  });
  it("turns a refused export into an ApiError with the server's words", async () => {
    const f = fake(403, `{"code":"forbidden","detail":"lacks audit_log:read"}`, "application/problem+json");
    const err = await f.client.exportAuditEvents({}, "csv").catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toContain("audit_log:read");
  });
});
