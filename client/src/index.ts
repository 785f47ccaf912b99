/**
 * The Ledgerlink client: every request and answer typed from the API's own OpenAPI document
 * (src/schema.d.ts, generated), sent by openapi-fetch, plus what every integrator needs and
 * often gets wrong: refresh-token rotation, problem+json errors as typed exceptions, Retry-After,
 * the change-feed loop and the connect hand-off.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.d.ts";

export type { components, paths };
export type Problem = components["schemas"]["Problem"];
export type User = components["schemas"]["User"];
export type Transaction = components["schemas"]["Transaction"];

/** An answer of the API that was not a success: its problem+json, with `code` to switch on. */
export class LedgerlinkError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem | null;
  readonly retryAfterSeconds: number | null;

  constructor(status: number, problem: Problem | null, retryAfter: string | null) {
    super(problem ? `${problem.code}: ${problem.detail}` : `HTTP ${status}`);
    this.name = "LedgerlinkError";
    this.status = status;
    this.code = problem?.code ?? `http_${status}`;
    this.problem = problem;
    this.retryAfterSeconds = retryAfter === null ? null : Number(retryAfter);
  }
}

/** The session a client holds. Keep it where your app keeps secrets; `null` when logged out. */
export interface Session {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms when the access token expires. */
  expiresAt: number;
}

export interface SessionStore {
  get(): Session | null | Promise<Session | null>;
  set(session: Session | null): void | Promise<void>;
}

/** Keeps the session in memory (a server-side script; browsers may prefer their own store). */
export function memoryStore(): SessionStore {
  let current: Session | null = null;
  return {
    get: () => current,
    set: (s) => {
      current = s;
    },
  };
}

export interface ClientOptions {
  baseUrl: string;
  session?: SessionStore;
  /** Longest `Retry-After` the client waits by itself before retrying once (default 10 s). */
  maxRetryAfterSeconds?: number;
  fetch?: typeof fetch;
}

/** Refresh this long before the access token expires, so a request never carries a stale one. */
const REFRESH_EARLY_MS = 30_000;
/** Operations that take no access token (they are public: `security: []`). */
const PUBLIC =
  /\/api\/v1\/auth\/(register|verify-email|resend-verification|login|refresh|request-password-reset|reset-password|mfa\/verify)$/;

type TokenAnswer = components["schemas"]["TokenResponse"];

async function problemOf(res: Response): Promise<Problem | null> {
  if (!(res.headers.get("Content-Type") ?? "").startsWith("application/problem+json")) return null;
  return (await res.json()) as Problem;
}

export function createLedgerlink(options: ClientOptions) {
  const store = options.session ?? memoryStore();
  const baseFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const maxWait = options.maxRetryAfterSeconds ?? 10;
  let refreshing: Promise<Session> | null = null;

  const remember = async (t: TokenAnswer): Promise<Session> => {
    const session = {
      accessToken: t.access_token,
      refreshToken: t.refresh_token,
      expiresAt: Date.now() + t.expires_in * 1000,
    };
    await store.set(session);
    return session;
  };

  /**
   * Rotates the refresh token. One rotation at a time per client: concurrent callers share it
   * (the server also answers a token reused within 10 s of its rotation with the same
   * successor, so two clients racing with one token both succeed). A refused rotation ends the
   * local session too.
   */
  function refresh(): Promise<Session> {
    refreshing ??= (async () => {
      try {
        const session = await store.get();
        if (!session) throw new LedgerlinkError(401, null, null);
        const res = await baseFetch(`${options.baseUrl}/api/v1/auth/refresh`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: session.refreshToken }),
        });
        if (!res.ok) {
          const error = new LedgerlinkError(res.status, await problemOf(res), res.headers.get("Retry-After"));
          if (res.status === 401) await store.set(null);
          throw error;
        }
        return remember((await res.json()) as TokenAnswer);
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  /**
   * What openapi-fetch sends through: adds the bearer token (refreshing it first when close to
   * expiry), refreshes once and retries on `token_expired`, and waits out one `Retry-After` on 429.
   */
  async function send(request: Request): Promise<Response> {
    const attempt = async (): Promise<Response> => {
      const req = request.clone();
      if (!PUBLIC.test(new URL(req.url).pathname)) {
        let session = await store.get();
        if (session && session.expiresAt - Date.now() < REFRESH_EARLY_MS) session = await refresh();
        if (session) req.headers.set("Authorization", `Bearer ${session.accessToken}`);
      }
      return baseFetch(req);
    };
    let res = await attempt();
    if (res.status === 401 && (await problemOf(res.clone()))?.code === "token_expired") {
      await refresh();
      res = await attempt();
    }
    const wait = Number(res.headers.get("Retry-After"));
    if (res.status === 429 && Number.isFinite(wait) && wait <= maxWait) {
      await new Promise((r) => setTimeout(r, Math.max(1, wait) * 1000));
      res = await attempt();
    }
    return res;
  }

  const api = createClient<paths>({ baseUrl: options.baseUrl, fetch: send });

  /** The data of an answer, or its problem as a LedgerlinkError. */
  async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
    const { data, error, response } = await call;
    if (error !== undefined || !response.ok) {
      const problem = error && typeof error === "object" && "code" in error ? (error as Problem) : null;
      throw new LedgerlinkError(response.status, problem, response.headers.get("Retry-After"));
    }
    return data as T;
  }

  return {
    /** The typed openapi-fetch client for every operation (`api.GET("/api/v1/accounts")`). */
    api,
    ok,
    session: store,
    refresh,

    async login(email: string, password: string) {
      const answer = await ok(api.POST("/api/v1/auth/login", { body: { email, password } }));
      if ("mfa_required" in answer) return answer;
      await remember(answer as TokenAnswer);
      return answer as TokenAnswer;
    },

    async logout() {
      await ok(api.POST("/api/v1/auth/logout"));
      await store.set(null);
    },

    /**
     * Every change since `cursor` (none: the whole ledger), page after page until `has_more` is
     * false. Keep the last `next_cursor` and pass it next time to get only what changed.
     */
    async *changes(cursor?: string, count = 500) {
      for (;;) {
        const page = await ok(
          api.GET("/api/v1/transactions/sync", { params: { query: { count, ...(cursor ? { cursor } : {}) } } }),
        );
        yield page;
        cursor = page.next_cursor;
        if (!page.has_more) return;
      }
    },

    /**
     * Starts connecting a provider, in its kind of link (`auth_type` of GET /api/v1/providers).
     * For `oauth2` and `bank_consent` (send `institution_id`), open `authorizationUrl` in the
     * user's browser; the provider or bank sends it back to the API, which hands `{state, code}`
     * to your app (`return_to` redirect, `postMessage`, or a page): pass that to `complete`. For
     * `setup_token` (send the pasted `setup_token`), `authorizationUrl` is null and `connection`
     * is already active.
     */
    async connect(body: paths["/api/v1/connections"]["post"]["requestBody"]["content"]["application/json"]) {
      const started = await ok(api.POST("/api/v1/connections", { body }));
      return {
        connection: started.connection,
        authorizationUrl: started.authorization_url,
        complete: (handOff: { state: string; code?: string; error?: string }) =>
          ok(api.POST("/api/v1/connections/callback", { body: handOff })),
      };
    },

    /** Queues a sync now and waits (polling) until that run finishes; returns the run. */
    async syncNow(connectionId: string, timeoutMs = 60_000) {
      const { sync } = await ok(api.POST("/api/v1/connections/{id}/sync", { params: { path: { id: connectionId } } }));
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { syncs } = await ok(
          api.GET("/api/v1/connections/{id}/syncs", { params: { path: { id: connectionId }, query: { limit: 10 } } }),
        );
        const run = syncs.find((s) => s.id === sync.id);
        if (run && ["succeeded", "failed", "dead_lettered", "skipped"].includes(run.status)) return run;
        if (Date.now() > deadline) throw new Error(`sync ${sync.id} did not finish in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  };
}

export type Ledgerlink = ReturnType<typeof createLedgerlink>;
