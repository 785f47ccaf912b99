/**
 * Schwab Trader API adapter (docs/providers/schwab.md). OAuth 2 code flow with PKCE (RFC 6749
 * §4.1, RFC 7636) and HTTP Basic client authentication (RFC 6749 §2.3.1); accounts with
 * positions; transactions paged around Schwab's 1-year and 3,000-item limits.
 */
import type { z } from "zod";
import type { Logger } from "../logger";
import { createProviderHttp, type HttpTimeouts, type ProviderHooks } from "./http";
import {
  AccountNumbersSchema,
  AccountsSchema,
  mapAccount,
  mapTransaction,
  SCHWAB_TRANSACTION_TYPES,
  TokenResponseSchema,
  TransactionsSchema,
} from "./schwab-wire";
import { snapshotFromAccounts } from "./snapshot";
import {
  type AuthorizationUrlInput,
  type DateRange,
  type ExchangeCodeInput,
  MalformedResponseError,
  type ProviderAccount,
  type ProviderAdapter,
  type ProviderTokens,
  type ProviderTransaction,
  type RefreshResult,
  type SnapshotWindow,
} from "./types";

/** Options for `createSchwabAdapter`. */
export interface SchwabAdapterOptions {
  clientId: string;
  clientSecret: string;
  /** Default https://api.schwabapi.com; the sandbox is `<origin>/sandbox`. */
  baseUrl?: string;
  fetch: typeof fetch;
  timeouts: HttpTimeouts;
  now?: () => Date;
  logger?: Logger;
  /** Outbound limits and call metrics (src/providers/http.ts). */
  hooks?: ProviderHooks;
}

/** Schwab refresh tokens live 7 days from the first login; refreshing does not extend them. */
export const SCHWAB_REFRESH_TOKEN_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
/** Schwab refuses ranges over a year; 365 days is under a year even across a leap day. */
export const SCHWAB_MAX_RANGE_MS = 365 * 24 * 60 * 60 * 1000;
/** Schwab returns at most this many transactions per call, silently dropping the rest. */
export const SCHWAB_MAX_RESULTS = 3000;
// Below one second Schwab's second-precision timestamps cannot be told apart: stop splitting.
const MIN_WINDOW_MS = 1000;

function basicAuth(clientId: string, clientSecret: string): string {
  const bytes = new TextEncoder().encode(`${clientId}:${clientSecret}`);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
}

/** Creates the Schwab adapter; all I/O goes through the injected `fetch`. */
export function createSchwabAdapter(options: SchwabAdapterOptions): ProviderAdapter {
  if (!options.clientId || !options.clientSecret) throw new RangeError("Schwab clientId and clientSecret are required");
  const baseUrl = (options.baseUrl ?? "https://api.schwabapi.com").replace(/\/+$/, "");
  const now = options.now ?? (() => new Date());
  const http = createProviderHttp({
    hooks: options.hooks,
    provider: "schwab",
    fetch: options.fetch,
    timeouts: options.timeouts,
    correlationIdHeader: "Schwab-Client-CorrelId",
    logger: options.logger,
    now,
  });
  const authorization = basicAuth(options.clientId, options.clientSecret);

  const token = (operation: string, form: Record<string, string>) =>
    http.request({
      operation,
      method: "POST",
      url: `${baseUrl}/v1/oauth/token`,
      headers: {
        Authorization: authorization,
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/json",
      },
      body: new URLSearchParams(form).toString(),
      schema: TokenResponseSchema,
      // docs/providers/schwab.md: any 400/401 from the token endpoint means the grant is gone.
      reauthStatuses: [400, 401],
    });

  const trader = <T>(operation: string, path: string, accessToken: string, schema: z.ZodType<T>) =>
    http.request<T>({
      operation,
      method: "GET",
      url: `${baseUrl}/trader/v1${path}`,
      headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json" },
      schema,
    });

  async function fetchWindow(
    accessToken: string,
    hash: string,
    start: number,
    end: number,
    out: Map<string, ProviderTransaction>,
  ): Promise<void> {
    const query = new URLSearchParams({
      startDate: new Date(start).toISOString(),
      endDate: new Date(end).toISOString(),
      types: SCHWAB_TRANSACTION_TYPES.join(","),
    });
    const items = await trader(
      "transactions.list",
      `/accounts/${encodeURIComponent(hash)}/transactions?${query}`,
      accessToken,
      TransactionsSchema,
    );
    if (items.length >= SCHWAB_MAX_RESULTS) {
      // A full page may be truncated: split the window and ask again (docs/providers/schwab.md "3,000 per call").
      if (end - start <= MIN_WINDOW_MS) {
        throw new MalformedResponseError("schwab transactions.list: 3,000+ transactions within one second");
      }
      const mid = start + Math.floor((end - start) / 2);
      // Halves share `mid` so an item on the boundary is seen whatever Schwab's inclusivity; dedupe below.
      await fetchWindow(accessToken, hash, start, mid, out);
      await fetchWindow(accessToken, hash, mid, end, out);
      return;
    }
    for (const item of items) {
      const tx = mapTransaction(item);
      if (tx) out.set(tx.providerTransactionId, tx);
    }
  }

  const adapter: ProviderAdapter = {
    provider: "schwab",

    authorizationUrl({ state, codeChallenge, redirectUri, scenario }: AuthorizationUrlInput): string {
      const url = new URL(`${baseUrl}/v1/oauth/authorize`);
      url.searchParams.set("client_id", options.clientId);
      url.searchParams.set("redirect_uri", redirectUri);
      url.searchParams.set("response_type", "code");
      url.searchParams.set("state", state);
      url.searchParams.set("code_challenge", codeChallenge);
      url.searchParams.set("code_challenge_method", "S256");
      url.searchParams.set("scope", "api");
      if (scenario !== undefined) url.searchParams.set("scenario", scenario);
      return url.toString();
    },

    async exchangeCode({ code, codeVerifier, redirectUri }: ExchangeCodeInput): Promise<ProviderTokens> {
      const issuedAt = now().getTime();
      const body = await token("token.code", {
        grant_type: "authorization_code",
        code,
        redirect_uri: redirectUri,
        code_verifier: codeVerifier,
      });
      if (!body.refresh_token) {
        throw new MalformedResponseError("schwab token.code: no refresh_token in the code grant response");
      }
      return {
        accessToken: body.access_token,
        refreshToken: body.refresh_token,
        accessTokenExpiresAt: new Date(issuedAt + body.expires_in * 1000),
        refreshTokenExpiresAt: new Date(issuedAt + SCHWAB_REFRESH_TOKEN_LIFETIME_MS),
        scope: body.scope,
      };
    },

    async refresh(refreshToken: string): Promise<RefreshResult> {
      const issuedAt = now().getTime();
      const body = await token("token.refresh", { grant_type: "refresh_token", refresh_token: refreshToken });
      const returned = body.refresh_token || undefined;
      const outcome = returned === undefined ? "absent" : returned === refreshToken ? "same" : "rotated";
      // No refreshTokenExpiresAt: the 7-day clock started at the first login and keeps running.
      return {
        accessToken: body.access_token,
        accessTokenExpiresAt: new Date(issuedAt + body.expires_in * 1000),
        refreshToken: returned ?? refreshToken,
        refreshTokenOutcome: outcome,
        scope: body.scope,
      };
    },

    async accounts(accessToken: string): Promise<ProviderAccount[]> {
      const numbers = await trader("accounts.numbers", "/accounts/accountNumbers", accessToken, AccountNumbersSchema);
      const list = await trader("accounts.list", "/accounts?fields=positions", accessToken, AccountsSchema);
      const asOf = now();
      const hashByNumber = new Map(numbers.map((n) => [n.accountNumber, n.hashValue]));
      return list.map((entry) => {
        const hash = hashByNumber.get(entry.securitiesAccount.accountNumber);
        // Without its hash an account cannot be addressed; never fall back to the plain number.
        if (!hash) throw new MalformedResponseError("schwab accounts.list: an account has no hashValue");
        return mapAccount(entry, hash, asOf);
      });
    },

    async transactions(accessToken: string, accountRef: string, range: DateRange): Promise<ProviderTransaction[]> {
      const start = range.start.getTime();
      const end = range.end.getTime();
      if (!(Number.isFinite(start) && Number.isFinite(end)) || start > end) throw new RangeError("invalid date range");
      const out = new Map<string, ProviderTransaction>();
      // Windows of at most a year, sharing boundaries (deduplicated by activityId).
      for (let from = start; ; from += SCHWAB_MAX_RANGE_MS) {
        const to = Math.min(from + SCHWAB_MAX_RANGE_MS, end);
        await fetchWindow(accessToken, accountRef, from, to, out);
        if (to >= end) break;
      }
      return [...out.values()].sort(
        (a, b) => a.date.getTime() - b.date.getTime() || a.providerTransactionId.localeCompare(b.providerTransactionId),
      );
    },

    /** accounts() then transactions() per account; the credential is the access token. */
    snapshot(accessToken: string, window: SnapshotWindow) {
      return snapshotFromAccounts(adapter, accessToken, window);
    },
  };
  return adapter;
}
