/**
 * GoCardless's app tokens (docs/providers/gocardless.md "Tokens"): a secret pair mints an
 * access/refresh pair (100 mints an hour per company, so keep them); the refresh token renews the
 * access token until it dies, then mint again. Pure functions: the integrator stores the pair.
 */
import type { Logger } from "../../logger";
import { createProviderHttp, type HttpTimeouts, type ProviderHooks, type ProviderHttpClient } from "../http";
import { AppTokenRefusedError, classifyGoCardless } from "./errors";
import { TokenNewSchema, TokenRefreshSchema } from "./wire";

/** Production API root. */
export const GOCARDLESS_BASE_URL = "https://bankaccountdata.gocardless.com/api/v2";

/** The HTTP client and API root every GoCardless call uses. */
export interface GoCardlessHttp {
  http: ProviderHttpClient;
  /** e.g. https://bankaccountdata.gocardless.com/api/v2 (no trailing slash). */
  baseUrl: string;
  now: () => Date;
}

/** Options for `createGoCardlessHttp`. */
export interface GoCardlessHttpOptions {
  fetch: typeof fetch;
  timeouts: HttpTimeouts;
  /** Default GOCARDLESS_BASE_URL; the simulator is `<APP_BASE_URL>/sandbox/gocardless/api/v2`. */
  baseUrl?: string;
  logger?: Logger;
  now?: () => Date;
  /** Outbound limits and call metrics (src/providers/http.ts). */
  hooks?: ProviderHooks;
}

/** Builds the client (GoCardless's error classification included). */
export function createGoCardlessHttp(o: GoCardlessHttpOptions): GoCardlessHttp {
  const now = o.now ?? (() => new Date());
  return {
    http: createProviderHttp({
      hooks: o.hooks,
      provider: "gocardless",
      fetch: o.fetch,
      timeouts: o.timeouts,
      logger: o.logger,
      now,
      classify: classifyGoCardless,
    }),
    baseUrl: (o.baseUrl ?? GOCARDLESS_BASE_URL).replace(/\/+$/, ""),
    now,
  };
}

/** A minted pair. */
export interface AppTokenPair {
  access: string;
  accessExpiresAt: Date;
  refresh: string;
  refreshExpiresAt: Date;
}

/** The app's secret pair from the GoCardless portal. */
export interface AppSecrets {
  secretId: string;
  secretKey: string;
}

const JSON_HEADERS = { "Content-Type": "application/json", Accept: "application/json" };
// Any 401 from the token endpoints is about the app's secrets or refresh token, never a user.
const tokenClassify = (a: Parameters<typeof classifyGoCardless>[0]) =>
  a.status === 401 ? new AppTokenRefusedError(a.message, a.info) : null;

/** POST /token/new/: 401 → AppTokenRefusedError (wrong secrets); 429 → RateLimitedError (100/hour). */
export async function mintAppToken(gc: GoCardlessHttp, secrets: AppSecrets): Promise<AppTokenPair> {
  const at = gc.now().getTime();
  const body = await gc.http.request({
    operation: "token.new",
    method: "POST",
    url: `${gc.baseUrl}/token/new/`,
    headers: JSON_HEADERS,
    body: JSON.stringify({ secret_id: secrets.secretId, secret_key: secrets.secretKey }),
    schema: TokenNewSchema,
    classify: tokenClassify,
  });
  return {
    access: body.access,
    accessExpiresAt: new Date(at + body.access_expires * 1000),
    refresh: body.refresh,
    refreshExpiresAt: new Date(at + body.refresh_expires * 1000),
  };
}

/** POST /token/refresh/: a new access token (no new refresh); 401 → AppTokenRefusedError (mint again). */
export async function refreshAppToken(
  gc: GoCardlessHttp,
  refresh: string,
): Promise<{ access: string; accessExpiresAt: Date }> {
  const at = gc.now().getTime();
  const body = await gc.http.request({
    operation: "token.refresh",
    method: "POST",
    url: `${gc.baseUrl}/token/refresh/`,
    headers: JSON_HEADERS,
    body: JSON.stringify({ refresh }),
    schema: TokenRefreshSchema,
    classify: tokenClassify,
  });
  return { access: body.access, accessExpiresAt: new Date(at + body.access_expires * 1000) };
}

/** Where the adapter gets its app token; the integrator keeps the pair in one place. */
export interface AppTokenSource {
  /** A current access token (refreshing or minting as needed). */
  get(): Promise<string>;
  /** GoCardless refused this token ("Invalid token"): forget it, so the next get() renews. */
  rejected(token: string): Promise<void>;
}

/**
 * An in-memory token source (tests, a single isolate): keeps the pair, refreshes the access token
 * `marginMs` before it expires, mints again when the refresh token is dead or refused.
 */
export function memoryAppTokens(gc: GoCardlessHttp, secrets: AppSecrets, marginMs = 60_000): AppTokenSource {
  let pair: AppTokenPair | null = null;
  return {
    async get() {
      const now = gc.now().getTime();
      if (pair && pair.accessExpiresAt.getTime() - marginMs > now) return pair.access;
      if (pair && pair.refreshExpiresAt.getTime() - marginMs > now) {
        try {
          const renewed = await refreshAppToken(gc, pair.refresh);
          pair = { ...pair, ...renewed };
          return pair.access;
        } catch (err) {
          if (!(err instanceof AppTokenRefusedError)) throw err;
        }
      }
      pair = await mintAppToken(gc, secrets);
      return pair.access;
    },
    async rejected(token) {
      if (pair?.access === token) pair = { ...pair, accessExpiresAt: new Date(0) };
    },
  };
}
