// Typed client of the API keys HTTP contract. Every call goes to
// `${baseUrl}/v1/...` with `Authorization: Bearer <token>` (except verify,
// whose body carries the token). Errors are thrown as ApiError holding the
// problem+json document so pages can show them next to the field concerned.
import type {
  ApiKey,
  ApiKeyWithToken,
  AuditEventPage,
  AuditFilter,
  Catalog,
  Environment,
  ExploreRequest,
  ExploreResult,
  KeyRequest,
  KeyUsage,
  Organization,
  Page,
  Problem,
  Project,
  ScopeLevel,
  Target,
  Team,
  VerifyResponse,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookList,
  WebhookRequest,
  WebhookWithSecret,
} from "./types";

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(status: number, problem: Problem) {
    super(describeProblem(status, problem));
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }

  /** Messages for one field ("name", "permissions[2].scope", ...). */
  fieldErrors(): { field: string; code: string; message: string }[] {
    return this.problem.errors ?? [];
  }

  get code(): string {
    return this.problem.code ?? "";
  }
}

/** A sentence a person can read, for a problem without field errors. */
export function describeProblem(status: number, p: Problem): string {
  switch (p.code) {
    case "unauthenticated":
      return "Your API key was not accepted (it may be wrong, expired, rotated or deleted). Sign in again.";
    case "forbidden":
      return p.detail
        ? `Your API key is not allowed to do this: ${p.detail}`
        : "Your API key is not allowed to do this.";
    case "not_found":
      return p.detail ?? "Not found: it may have been deleted.";
    case "conflict":
      return p.detail ?? "Someone else changed this at the same time.";
    case "rate_limited":
      return "Too many requests. Wait a moment and try again.";
    case "validation_failed":
      return p.detail ?? "Some fields need attention.";
    case "internal":
      return "The service had a problem. Try again in a moment.";
    case "unavailable":
      return p.detail
        ? `The service is unavailable: ${p.detail}. Try again later.`
        : "The service is unavailable. Try again in a moment.";
  }
  if (status === 0) return p.detail ?? "The service could not be reached. Check your connection.";
  return p.detail ?? p.title ?? `The request failed (HTTP ${status}).`;
}

export interface Listing {
  limit?: number;
  cursor?: string | null;
}

type Fetch = typeof fetch;

export class ApiClient {
  readonly baseUrl: string;
  private readonly token: string;
  private readonly fetchFn: Fetch;
  /** Called when the API answers 401 to an authenticated call (token revoked or expired). */
  onUnauthenticated?: () => void;

  constructor(baseUrl: string, token: string, fetchFn?: Fetch) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.token = token;
    this.fetchFn = fetchFn ?? ((input, init) => fetch(input, init));
  }

  private async request<T>(
    method: string,
    path: string,
    opts: { body?: unknown; headers?: Record<string, string>; auth?: boolean } = {},
  ): Promise<{ data: T; headers: Headers; status: number }> {
    const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
    if (opts.auth !== false) headers.Authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await this.fetchFn(this.baseUrl + path, {
        method,
        headers,
        body,
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    } catch {
      throw new ApiError(0, { code: "network", detail: "The service could not be reached. Check your connection." });
    }
    const text = await res.text();
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    if (!res.ok) {
      if (res.status === 401 && opts.auth !== false) this.onUnauthenticated?.();
      const problem: Problem =
        parsed && typeof parsed === "object" ? (parsed as Problem) : { status: res.status, title: res.statusText };
      throw new ApiError(res.status, problem);
    }
    return { data: parsed as T, headers: res.headers, status: res.status };
  }

  private static query(l: Listing): string {
    const q = new URLSearchParams();
    if (l.limit) q.set("limit", String(l.limit));
    if (l.cursor) q.set("cursor", l.cursor);
    const s = q.toString();
    return s ? `?${s}` : "";
  }

  /** Verifies a token; with a check, whether it may use a permission on a node. */
  async verify(
    token: string,
    check?: { permission: string; resource?: Record<string, string> },
  ): Promise<VerifyResponse> {
    return (await this.request<VerifyResponse>("POST", "/v1/verify", { body: { token, ...check }, auth: false })).data;
  }

  async organization(): Promise<Organization> {
    return (await this.request<Organization>("GET", "/v1/organization")).data;
  }

  async permissions(): Promise<Catalog> {
    return (await this.request<Catalog>("GET", "/v1/permissions")).data;
  }

  async listKeys(l: Listing = {}): Promise<Page<ApiKey>> {
    return (await this.request<Page<ApiKey>>("GET", `/v1/api-keys${ApiClient.query(l)}`)).data;
  }

  /** One key and its ETag (for If-Match on PATCH). */
  async getKey(id: string): Promise<{ key: ApiKey; etag: string | null }> {
    const r = await this.request<ApiKey>("GET", `/v1/api-keys/${encodeURIComponent(id)}`);
    return { key: r.data, etag: r.headers.get("ETag") };
  }

  async createKey(body: KeyRequest): Promise<ApiKeyWithToken> {
    return (await this.request<ApiKeyWithToken>("POST", "/v1/api-keys", { body })).data;
  }

  async updateKey(id: string, body: KeyRequest, etag: string | null): Promise<{ key: ApiKey; etag: string | null }> {
    const headers: Record<string, string> = {};
    if (etag) headers["If-Match"] = etag;
    const r = await this.request<ApiKey>("PATCH", `/v1/api-keys/${encodeURIComponent(id)}`, { body, headers });
    return { key: r.data, etag: r.headers.get("ETag") };
  }

  /**
   * Rotates a key; with graceSeconds > 0 the replaced token keeps working that
   * long (body {"grace_seconds": N}); without, no body (the replaced token stops at once).
   */
  async rotateKey(id: string, graceSeconds = 0): Promise<ApiKeyWithToken> {
    const body = graceSeconds > 0 ? { grace_seconds: graceSeconds } : undefined;
    return (await this.request<ApiKeyWithToken>("POST", `/v1/api-keys/${encodeURIComponent(id)}/rotate`, { body })).data;
  }

  /** Ends a rotation's grace period at once: the previous token stops working (404 when none runs). */
  async revokePreviousToken(id: string): Promise<void> {
    await this.request<null>("DELETE", `/v1/api-keys/${encodeURIComponent(id)}/previous-token`);
  }

  /** A key's verifications per day over the last 30 days, and its last use. */
  async keyUsage(id: string): Promise<KeyUsage> {
    return (await this.request<KeyUsage>("GET", `/v1/api-keys/${encodeURIComponent(id)}/usage`)).data;
  }

  /** One page of the organization's audit events, newest first. */
  async listAuditEvents(f: AuditFilter, l: Listing = {}): Promise<AuditEventPage> {
    return (await this.request<AuditEventPage>("GET", `/v1/audit-events${auditQuery(f, l)}`)).data;
  }

  /**
   * The whole selection of audit events as a file (NDJSON or CSV), read with
   * the bearer token in the header: the token never goes into an address.
   * On Lambda an export comes in parts of at most about 5 MB, each naming
   * the next in `Link: <?…&cursor=…>; rel="next"`: they are followed and
   * joined (a CSV part's header row kept from the first part only).
   */
  async exportAuditEvents(f: AuditFilter, format: "ndjson" | "csv"): Promise<Blob> {
    const accept = format === "csv" ? "text/csv" : "application/x-ndjson";
    const parts: string[] = [];
    let url: string | null = this.baseUrl + `/v1/audit-events${auditQuery(f, {})}`;
    for (let i = 0; url !== null; i++) {
      if (i >= MAX_EXPORT_PARTS) throw new ApiError(0, { code: "export_too_long", detail: "The export does not end: narrow it with since/until." });
      const res = await this.exportPart(url, accept);
      let text = await res.text();
      if (i > 0 && format === "csv") text = text.slice(text.indexOf("\n") + 1);
      parts.push(text);
      url = nextExportPart(res.headers.get("Link"), url);
    }
    return new Blob(parts, { type: accept });
  }

  /** One answer of an export (an ApiError when refused). */
  private async exportPart(url: string, accept: string): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method: "GET",
        headers: { Accept: accept, Authorization: `Bearer ${this.token}` },
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    } catch {
      throw new ApiError(0, { code: "network", detail: "The service could not be reached. Check your connection." });
    }
    if (!res.ok) {
      if (res.status === 401) this.onUnauthenticated?.();
      let problem: Problem = { status: res.status, title: res.statusText };
      try {
        problem = JSON.parse(await res.text()) as Problem;
      } catch {
        // not problem+json: keep the status line
      }
      throw new ApiError(res.status, problem);
    }
    return res;
  }

  async deleteKey(id: string): Promise<void> {
    await this.request<null>("DELETE", `/v1/api-keys/${encodeURIComponent(id)}`);
  }

  async explore(id: string, req: ExploreRequest): Promise<ExploreResult> {
    return (await this.request<ExploreResult>("POST", `/v1/api-keys/${encodeURIComponent(id)}/explore`, { body: req }))
      .data;
  }

  /** The organization's webhook endpoints, oldest first (at most 20: one answer, no pages). */
  async listWebhooks(): Promise<Webhook[]> {
    return (await this.listWebhooksPage()).items ?? [];
  }

  /** The whole answer of GET /v1/webhooks, with the endpoints the server could not read. */
  async listWebhooksPage(): Promise<WebhookList> {
    return (await this.request<WebhookList>("GET", "/v1/webhooks")).data;
  }

  async getWebhook(id: string): Promise<Webhook> {
    return (await this.request<Webhook>("GET", webhookPath(id))).data;
  }

  /** Creates an endpoint; the answer carries its signing secret, this once. */
  async createWebhook(body: WebhookRequest): Promise<WebhookWithSecret> {
    return (await this.request<WebhookWithSecret>("POST", "/v1/webhooks", { body })).data;
  }

  /** Changes the fields present in body; the others keep their value. */
  async updateWebhook(id: string, body: WebhookRequest): Promise<Webhook> {
    return (await this.request<Webhook>("PATCH", webhookPath(id), { body })).data;
  }

  async deleteWebhook(id: string): Promise<void> {
    await this.request<null>("DELETE", webhookPath(id));
  }

  /** A new signing secret, shown this once (the replaced one keeps signing for 24 hours). */
  async rotateWebhookSecret(id: string): Promise<WebhookWithSecret> {
    return (await this.request<WebhookWithSecret>("POST", `${webhookPath(id)}/rotate-secret`)).data;
  }

  /** An endpoint's latest deliveries, newest first. */
  async listWebhookDeliveries(id: string, limit = 50): Promise<WebhookDelivery[]> {
    return (await this.request<WebhookDeliveryList>("GET", `${webhookPath(id)}/deliveries?limit=${limit}`)).data.items ?? [];
  }

  /** Queues a delivery again at once, with the same webhook-id (409 while an attempt runs). */
  async retryWebhookDelivery(id: string, delivery: string): Promise<WebhookDelivery> {
    return (
      await this.request<WebhookDelivery>("POST", `${webhookPath(id)}/deliveries/${encodeURIComponent(delivery)}/retry`)
    ).data;
  }

  async listTeams(l: Listing = {}): Promise<Page<Team>> {
    return (await this.request<Page<Team>>("GET", `/v1/teams${ApiClient.query(l)}`)).data;
  }

  async listProjects(l: Listing = {}): Promise<Page<Project>> {
    return (await this.request<Page<Project>>("GET", `/v1/projects${ApiClient.query(l)}`)).data;
  }

  async listTargets(project: string, l: Listing = {}): Promise<Page<Target>> {
    return (
      await this.request<Page<Target>>(
        "GET",
        `/v1/projects/${encodeURIComponent(project)}/targets${ApiClient.query(l)}`,
      )
    ).data;
  }

  /** Creates a team, project, target or environment under parent (null for a team). */
  async createNode(level: ScopeLevel, name: string, parent: NodeRef | null): Promise<Team> {
    const r = createNodeRequest(level, name, parent);
    return (await this.request<Team>("POST", r.path, { body: r.body })).data;
  }

  /** Renames a directory node (unique among its siblings, or 409). */
  async renameNode(node: NodeRef, name: string): Promise<Team> {
    return (await this.request<Team>("PATCH", nodePath(node), { body: { name } })).data;
  }

  /** Deletes a directory node (409 while it has children). */
  async deleteNode(node: NodeRef): Promise<void> {
    await this.request<null>("DELETE", nodePath(node));
  }

  async listEnvironments(project: string, target: string, l: Listing = {}): Promise<Page<Environment>> {
    return (
      await this.request<Page<Environment>>(
        "GET",
        `/v1/projects/${encodeURIComponent(project)}/targets/${encodeURIComponent(target)}/environments${ApiClient.query(l)}`,
      )
    ).data;
  }
}

/** The API path of a webhook endpoint. */
export function webhookPath(id: string): string {
  return `/v1/webhooks/${encodeURIComponent(id)}`;
}

/** Where a directory node lives: enough ids to build its address. */
export interface NodeRef {
  level: ScopeLevel;
  id: string;
  projectId?: string | null;
  targetId?: string | null;
}

/** The API path of a directory node (/v1/teams/{id}, /v1/projects/{p}/targets/{t}, ...). */
export function nodePath(n: NodeRef): string {
  const e = encodeURIComponent;
  switch (n.level) {
    case "team":
      return `/v1/teams/${e(n.id)}`;
    case "project":
      return `/v1/projects/${e(n.id)}`;
    case "target":
      return `/v1/projects/${e(n.projectId ?? "")}/targets/${e(n.id)}`;
    case "environment":
      return `/v1/projects/${e(n.projectId ?? "")}/targets/${e(n.targetId ?? "")}/environments/${e(n.id)}`;
  }
}

/**
 * The API path and body that create a node of level under parent (null for a
 * team): teams and projects are top-level collections (a project names its
 * team in the body), targets and environments nest under their parents.
 */
export function createNodeRequest(level: ScopeLevel, name: string, parent: NodeRef | null): { path: string; body: Record<string, string> } {
  switch (level) {
    case "team":
      return { path: "/v1/teams", body: { name } };
    case "project":
      return { path: "/v1/projects", body: { name, team_id: parent?.id ?? "" } };
    case "target":
      return { path: `${nodePath({ level: "project", id: parent?.id ?? "" })}/targets`, body: { name } };
    case "environment":
      return { path: `${nodePath({ ...(parent ?? { id: "" }), level: "target" })}/environments`, body: { name } };
  }
}

/** Reads every page of a listing (bounded, so a bad cursor cannot loop forever). */
export async function listAll<T>(page: (l: Listing) => Promise<Page<T>>, maxPages = 50): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const p: Page<T> = await page({ limit: 100, cursor });
    out.push(...(p.items ?? []));
    if (!p.next_cursor) break;
    cursor = p.next_cursor;
  }
  return out;
}

/** The query string of GET /v1/audit-events for a selection and a page ("" when empty). */
export function auditQuery(f: AuditFilter, l: Listing): string {
  const q = new URLSearchParams();
  for (const k of ["key_id", "action", "since", "until"] as const) {
    const v = f[k]?.trim();
    if (v) q.set(k, v);
  }
  if (l.limit) q.set("limit", String(l.limit));
  if (l.cursor) q.set("cursor", l.cursor);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** The most parts an export is followed for (about 5 MB each on Lambda). */
const MAX_EXPORT_PARTS = 1000;

/** The URL of an export's next part from its Link header (rel="next", resolved against the part's own URL), or null. */
export function nextExportPart(link: string | null, current: string): string | null {
  const m = link?.match(/<([^>]*)>\s*;\s*rel="?next"?/);
  return m ? new URL(m[1], current).toString() : null;
}
