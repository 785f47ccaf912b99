/**
 * Alpaca adapter, OAuth via Alpaca Connect (docs/providers/alpaca.md). The code exchange gives a
 * token with no refresh token and no expiry; we probe which environment (live, paper or both) it
 * works on and keep that in the credential string: `<env>[+<env>]:<access token>`, e.g.
 * `paper:…` or `live+paper:…`. No refresh: a dead token means re-authorization.
 */
import type { z } from "zod";
import { decimalIsZero, decimalMul, decimalNeg } from "../../home/money";
import type { Logger } from "../../logger";
import { createProviderHttp, type FailedAnswer, type HttpTimeouts, type ProviderHooks, parseRetryAfter } from "../http";
import {
  type ProviderAccount,
  type ProviderError,
  type ProviderGrant,
  type ProviderHolding,
  ProviderRejectedError,
  type ProviderSnapshot,
  type ProviderTransaction,
  RateLimitedError,
  ReauthRequiredError,
  type SnapshotSource,
  type SnapshotWindow,
} from "../types";
import { AccountSchema, ActivitiesSchema, type AlpacaActivity, PositionsSchema, TokenSchema } from "./wire";

/** A trading environment. */
export type AlpacaEnvironment = "live" | "paper";

/** Options for `createAlpacaAdapter`; the four URLs default to Alpaca's. */
export interface AlpacaAdapterOptions {
  clientId: string;
  clientSecret: string;
  authorizeUrl?: string;
  tokenUrl?: string;
  liveBaseUrl?: string;
  paperBaseUrl?: string;
  fetch: typeof fetch;
  timeouts: HttpTimeouts;
  now?: () => Date;
  logger?: Logger;
  /** Outbound limits and call metrics (src/providers/http.ts). */
  hooks?: ProviderHooks;
}

/** The result of a code exchange: the grant, the environments it works on, the credential to store. */
export interface AlpacaGrant extends ProviderGrant {
  refreshToken: null;
  accessTokenExpiresAt: null;
  environments: AlpacaEnvironment[];
  /** `<env>[+<env>]:<access token>`: what `snapshot` takes. */
  credential: string;
}

export const ALPACA_URLS = {
  authorizeUrl: "https://app.alpaca.markets/oauth/authorize",
  tokenUrl: "https://api.alpaca.markets/oauth/token",
  liveBaseUrl: "https://api.alpaca.markets",
  paperBaseUrl: "https://paper-api.alpaca.markets",
} as const;

const PAGE_SIZE = 100;
/** Activity types Alpaca documents (trading-api.json and alpaca-py); anything else is "other". */
const KNOWN_TYPES = new Set(
  "FILL TRANS MISC ACATC ACATS CFEE CSD CSW DIV DIVCGL DIVCGS DIVFEE DIVFT DIVNRA DIVROC DIVTW DIVTXEX FEE INT INTNRA INTTW JNL JNLC JNLS MA NC OPASN OPCA OPCSH OPEXC OPEXP OPTRD PTC PTR REORG SPIN SPLIT FOPT CIL DIVWH EXTRD FXTRD INTPNL MEM OCT SWP VOF WH".split(
    " ",
  ),
);

/** `<env>[+<env>]:<token>` → its parts, or null. */
export function parseAlpacaCredential(credential: string): { environments: AlpacaEnvironment[]; token: string } | null {
  const m = /^((?:live|paper)(?:\+(?:live|paper))?):(\S+)$/.exec(credential);
  if (!m) return null;
  const environments = [...new Set((m[1] as string).split("+"))] as AlpacaEnvironment[];
  return { environments, token: m[2] as string };
}

/** Builds a credential string. */
export const alpacaCredential = (environments: AlpacaEnvironment[], token: string) =>
  `${[...new Set(environments)].sort().join("+")}:${token}`;

/** Alpaca's failures: key on the status, never on `code` (docs/providers/alpaca.md "Errors"). */
function classifyAlpaca(a: FailedAnswer): ProviderError | null {
  if (a.status === 429) {
    const reset = a.headers.get("X-RateLimit-Reset");
    const fromReset =
      reset && /^\d{1,12}$/.test(reset.trim()) ? Math.max(0, Number(reset) - Math.floor(a.now.getTime() / 1000)) : null;
    return new RateLimitedError(a.message, parseRetryAfter(a.headers.get("Retry-After"), a.now) ?? fromReset, {
      ...a.info,
      reason: "burst",
    });
  }
  return null;
}

const maskOf = (n: string | undefined) => {
  const tail = (n ?? "").replace(/[^A-Za-z0-9]/g, "").slice(-4);
  return tail.length === 4 ? `••••${tail}` : "••••";
};

const ASSET_TYPES: Record<string, string> = { us_equity: "equity", us_option: "option", crypto: "crypto" };

/** The instant of a time or date (`2019-08-01` → midnight UTC), or null. */
function instant(text: string | undefined): Date | null {
  if (!text) return null;
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  return Number.isFinite(d.getTime()) && /^\d{4}-\d{2}-\d{2}/.test(text) ? d : null;
}

/** One activity as a transaction; null for canceled ones (they never happened) and undatable rows. */
export function mapActivity(a: AlpacaActivity, currency: string): ProviderTransaction | null {
  const type = a.activity_type.toUpperCase();
  if ((a.status ?? "").toLowerCase() === "canceled") return null;
  if (type === "FILL") {
    const date = instant(a.transaction_time);
    if (!date || !a.price || !a.qty) return null;
    const buy = (a.side ?? "").toLowerCase() !== "sell";
    const gross = decimalMul(a.price, a.qty);
    return {
      providerTransactionId: a.id,
      status: "posted",
      type: "fill",
      description: `${buy ? "Buy" : "Sell"} ${a.qty} ${a.symbol ?? ""} @ ${a.price}`.replace(/\s+/g, " "),
      amount: buy ? decimalNeg(gross) : gross,
      currency,
      symbol: a.symbol ?? null,
      quantity: buy ? a.qty : decimalNeg(a.qty),
      price: a.price,
      date,
      raw: {
        activityType: "FILL",
        fillType: a.type ?? null,
        side: a.side ?? null,
        orderId: a.order_id ?? null,
        orderStatus: a.order_status ?? null,
      },
    };
  }
  const date = instant(a.date) ?? instant(a.created_at);
  if (!date || a.net_amount == null) return null;
  const kind = KNOWN_TYPES.has(type) ? type.toLowerCase() : "other";
  return {
    providerTransactionId: a.id,
    status: "posted",
    type: kind,
    description: (a.description || [type, a.activity_sub_type, a.symbol].filter(Boolean).join(" ")).slice(0, 500),
    amount: a.net_amount,
    currency,
    symbol: a.symbol ?? null,
    quantity: a.qty ?? null,
    price: a.per_share_amount ?? a.price ?? null,
    date,
    raw: {
      activityType: type,
      activitySubType: a.activity_sub_type ?? null,
      status: a.status ?? null,
      groupId: a.group_id ?? null,
    },
  };
}

/** Creates the adapter; all I/O goes through the injected `fetch`. */
export function createAlpacaAdapter(options: AlpacaAdapterOptions) {
  if (!options.clientId || !options.clientSecret) throw new RangeError("Alpaca clientId and clientSecret are required");
  const now = options.now ?? (() => new Date());
  const urls = {
    authorizeUrl: options.authorizeUrl ?? ALPACA_URLS.authorizeUrl,
    tokenUrl: options.tokenUrl ?? ALPACA_URLS.tokenUrl,
    live: (options.liveBaseUrl ?? ALPACA_URLS.liveBaseUrl).replace(/\/+$/, ""),
    paper: (options.paperBaseUrl ?? ALPACA_URLS.paperBaseUrl).replace(/\/+$/, ""),
  };
  const http = createProviderHttp({
    hooks: options.hooks,
    provider: "alpaca",
    fetch: options.fetch,
    timeouts: options.timeouts,
    logger: options.logger,
    now,
    classify: classifyAlpaca,
  });

  const get = <T>(
    env: AlpacaEnvironment,
    token: string,
    operation: string,
    path: string,
    schema: z.ZodType<T>,
    reauthStatuses = [401],
  ) =>
    http.request<T>({
      operation: `${env}.${operation}`,
      method: "GET",
      url: `${urls[env]}${path}`,
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
      schema,
      reauthStatuses,
    });

  async function readEnvironment(env: AlpacaEnvironment, token: string, window: SnapshotWindow) {
    // Any 401, or a 403 on the account itself, means the user must authorize again.
    const acct = await get(env, token, "account", "/v2/account", AccountSchema, [401, 403]);
    const currency = acct.currency ?? "USD";
    const positions = await get(env, token, "positions", "/v2/positions", PositionsSchema);
    const since = window.startFor(acct.id);
    const rows = new Map<string, AlpacaActivity>();
    let pageToken: string | null = null;
    for (let page = 0; page < 10_000; page++) {
      const q = new URLSearchParams({
        after: since.toISOString(),
        until: window.end.toISOString(),
        direction: "asc",
        page_size: String(PAGE_SIZE),
      });
      if (pageToken) q.set("page_token", pageToken);
      const items = await get(env, token, "activities", `/v2/account/activities?${q}`, ActivitiesSchema);
      for (const item of items) rows.set(item.id, item);
      // A short (or empty) page is the last one.
      if (items.length < PAGE_SIZE) break;
      pageToken = (items.at(-1) as AlpacaActivity).id;
    }
    const holdings: ProviderHolding[] = positions.map((p) => {
      const short = (p.side ?? "").toLowerCase() === "short";
      const quantity = short && !p.qty.startsWith("-") && !decimalIsZero(p.qty) ? decimalNeg(p.qty) : p.qty;
      return {
        providerHoldingId: `asset:${p.asset_id}`,
        symbol: p.symbol,
        name: p.symbol,
        assetType: ASSET_TYPES[p.asset_class ?? ""] ?? (p.asset_class ?? "other").toLowerCase(),
        quantity,
        price: p.current_price ?? null,
        marketValue: p.market_value ?? null,
        currency,
      };
    });
    const masked = maskOf(acct.account_number);
    const account: ProviderAccount = {
      providerAccountId: acct.id,
      accountNumberMasked: masked,
      name: `Alpaca ${env === "live" ? "Live" : "Paper"} ${masked}`,
      type: String(acct.multiplier ?? "1") === "1" ? "cash" : "margin",
      kind: "brokerage",
      currency,
      // current = equity (cash + positions); available = cash, as for Schwab: buying_power counts margin.
      balances: {
        current: acct.equity ?? acct.portfolio_value ?? null,
        available: acct.cash ?? null,
        cash: acct.cash ?? null,
        asOf: now(),
      },
      holdings,
    };
    const transactions = [...rows.values()]
      .map((a) => mapActivity(a, currency))
      .filter((t): t is ProviderTransaction => t !== null)
      .sort(
        (x, y) => x.date.getTime() - y.date.getTime() || x.providerTransactionId.localeCompare(y.providerTransactionId),
      );
    return { account, transactions, since };
  }

  const adapter = {
    provider: "alpaca" as const,
    authType: "oauth2" as const,

    /** The consent URL: no scope (read-only), `state` only (Alpaca documents no PKCE). */
    authorizationUrl({
      state,
      redirectUri,
      scenario,
    }: {
      state: string;
      redirectUri: string;
      scenario?: string;
    }): string {
      const url = new URL(urls.authorizeUrl);
      url.searchParams.set("response_type", "code");
      url.searchParams.set("client_id", options.clientId);
      url.searchParams.set("redirect_uri", redirectUri);
      url.searchParams.set("state", state);
      // Sandbox only: the simulator reads it; real Alpaca is never given one.
      if (scenario !== undefined) url.searchParams.set("scenario", scenario);
      return url.toString();
    },

    /** Form-encoded code exchange, then a probe of GET /v2/account on live and paper. */
    async exchangeCode({ code, redirectUri }: { code: string; redirectUri: string }): Promise<AlpacaGrant> {
      const body = await http.request({
        operation: "token.code",
        method: "POST",
        url: urls.tokenUrl,
        headers: { Accept: "application/json" },
        form: {
          grant_type: "authorization_code",
          code,
          client_id: options.clientId,
          client_secret: options.clientSecret,
          redirect_uri: redirectUri,
        },
        schema: TokenSchema,
        // Any refusal means "start the flow again".
        reauthStatuses: [400, 401, 403],
      });
      const token = body.access_token;
      const probe = async (env: AlpacaEnvironment) => {
        try {
          await get(env, token, "probe", "/v2/account", AccountSchema, [401, 403]);
          return true;
        } catch (err) {
          // Not authorized here ("access token is not authorized for this scope"): not this environment.
          if (err instanceof ReauthRequiredError) return false;
          throw err;
        }
      };
      const [live, paper] = await Promise.all([probe("live"), probe("paper")]);
      const environments: AlpacaEnvironment[] = [
        ...(live ? ["live" as const] : []),
        ...(paper ? ["paper" as const] : []),
      ];
      if (environments.length === 0) {
        throw new ReauthRequiredError("alpaca: the token works on neither live nor paper", {
          detail: "no_environment",
        });
      }
      return {
        accessToken: token,
        refreshToken: null,
        accessTokenExpiresAt: null,
        refreshTokenExpiresAt: null,
        scope: body.scope ?? "",
        environments,
        credential: alpacaCredential(environments, token),
      };
    },

    /** One account per environment the credential names. */
    async snapshot(credential: string, window: SnapshotWindow): Promise<ProviderSnapshot> {
      const parsed = parseAlpacaCredential(credential);
      if (!parsed) throw new ProviderRejectedError("alpaca: malformed credential", { detail: "credential_malformed" });
      const accounts: ProviderSnapshot["accounts"] = [];
      for (const env of parsed.environments) accounts.push(await readEnvironment(env, parsed.token, window));
      return { accounts, warnings: [], quota: null };
    },
  } satisfies SnapshotSource & Record<string, unknown>;
  return adapter;
}

/** The adapter's type. */
export type AlpacaAdapter = ReturnType<typeof createAlpacaAdapter>;
