/**
 * The provider adapter contract and its typed errors. Adapters translate one provider's HTTP API
 * into these normalized shapes; services never see provider JSON. Money and quantities are exact
 * decimal strings (see ./decimal.ts); timestamps are UTC `Date`s.
 */

/** Input for building the provider's consent URL (OAuth 2 code flow, RFC 6749 §4.1 + PKCE RFC 7636). */
export interface AuthorizationUrlInput {
  state: string;
  /** BASE64URL(SHA-256(code_verifier)), method S256 (RFC 7636 §4.2). */
  codeChallenge: string;
  redirectUri: string;
  /** Sandbox only: picks the simulated login's behaviour. Real providers ignore it. */
  scenario?: string;
}

/** Input for the authorization-code grant (RFC 6749 §4.1.3, RFC 7636 §4.5). */
export interface ExchangeCodeInput {
  code: string;
  codeVerifier: string;
  redirectUri: string;
}

/** Credentials from a successful code exchange. */
export interface ProviderTokens {
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: Date;
  /** When the refresh token stops working, if the provider's rules say (Schwab: login + 7 days). */
  refreshTokenExpiresAt: Date | null;
  scope?: string;
}

/** What a refresh grant did with the refresh token. */
export type RefreshTokenOutcome = "rotated" | "same" | "absent";

/** Result of a refresh grant (RFC 6749 §6). */
export interface RefreshResult {
  accessToken: string;
  accessTokenExpiresAt: Date;
  /** The refresh token to keep: the new one when rotated, otherwise the one that was sent. */
  refreshToken: string;
  refreshTokenOutcome: RefreshTokenOutcome;
  /**
   * Set only when the provider states a new refresh-token lifetime. Absent means "keep the stored
   * expiry": Schwab's refresh token lives 7 days from the first login whatever refreshing does.
   */
  refreshTokenExpiresAt?: Date | null;
  scope?: string;
}

/** Merges a refresh result into stored credentials, keeping the refresh expiry unless restated. */
export function applyRefresh(stored: ProviderTokens, result: RefreshResult): ProviderTokens {
  return {
    accessToken: result.accessToken,
    accessTokenExpiresAt: result.accessTokenExpiresAt,
    refreshToken: result.refreshToken,
    refreshTokenExpiresAt:
      result.refreshTokenExpiresAt === undefined ? stored.refreshTokenExpiresAt : result.refreshTokenExpiresAt,
    scope: result.scope ?? stored.scope,
  };
}

/** Normalized account balances; decimal strings, null when the provider gave none. */
export interface ProviderBalances {
  current: string | null;
  available: string | null;
  asOf: Date;
}

/** One position in an account. */
export interface ProviderHolding {
  /** Stable across syncs: derived from CUSIP, instrument id or symbol. */
  providerHoldingId: string;
  symbol: string | null;
  name: string | null;
  /** Lower-case asset class: equity, etf, option, mutual_fund, fixed_income, cash_equivalent, ... */
  assetType: string;
  /** Signed: negative for short positions. */
  quantity: string;
  /** Per-unit price derived from market value, or null when it cannot be derived. */
  price: string | null;
  marketValue: string | null;
  currency: string;
}

/** One account with balances and holdings. */
export interface ProviderAccount {
  /** The provider's opaque account reference (Schwab: the hashValue). Pass it to `transactions`. */
  providerAccountId: string;
  /** Last four digits only, e.g. "••••1234"; the full number never leaves the adapter. */
  accountNumberMasked: string;
  name: string;
  /** Lower-case account type, e.g. "margin", "cash". */
  type: string;
  currency: string;
  balances: ProviderBalances;
  holdings: ProviderHolding[];
}

/** One transaction, pending or posted. */
export interface ProviderTransaction {
  /** The provider's stable id (Schwab: activityId as a string). */
  providerTransactionId: string;
  status: "pending" | "posted";
  /** Lower-case provider type, e.g. "trade", "dividend_or_interest". */
  type: string;
  description: string;
  /** Signed cash effect on the account. */
  amount: string;
  currency: string;
  symbol: string | null;
  /** Signed security quantity (negative for a sell), when a security moved. */
  quantity: string | null;
  price: string | null;
  date: Date;
  /** Provider type details kept for reconciliation and debugging (never shown raw to clients). */
  raw: {
    type: string;
    status: string;
    activityType: string | null;
    subAccount: string | null;
    orderId: string | null;
  };
}

/** A half-open-or-closed time window; providers treat both ends as inclusive. */
export interface DateRange {
  start: Date;
  end: Date;
}

/** What every provider adapter offers. */
export interface ProviderAdapter {
  readonly provider: string;
  authorizationUrl(input: AuthorizationUrlInput): string;
  exchangeCode(input: ExchangeCodeInput): Promise<ProviderTokens>;
  refresh(refreshToken: string): Promise<RefreshResult>;
  accounts(accessToken: string): Promise<ProviderAccount[]>;
  transactions(accessToken: string, accountRef: string, range: DateRange): Promise<ProviderTransaction[]>;
}

/** The class of a provider failure; tells the sync what to do next. */
export type ProviderErrorKind =
  | "reauth_required"
  | "rate_limited"
  | "payment_required"
  | "transient"
  | "malformed"
  | "rejected";

/** Context every provider error may carry; all of it is safe to log. */
export interface ProviderErrorInfo {
  /** HTTP status, or null for network failures and timeouts. */
  status?: number | null;
  /** Provider request id (Schwab: `Schwab-Client-CorrelId`) for support tickets. */
  correlationId?: string | null;
  /** Short sanitized summary of the provider's answer; never tokens or whole bodies. */
  detail?: string | null;
  cause?: unknown;
}

/** Base of all provider failures. `message` is safe to log; it never holds tokens or bodies. */
export abstract class ProviderError extends Error {
  abstract readonly kind: ProviderErrorKind;
  readonly status: number | null;
  readonly correlationId: string | null;
  readonly detail: string | null;

  constructor(message: string, info: ProviderErrorInfo = {}) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause });
    this.status = info.status ?? null;
    this.correlationId = info.correlationId ?? null;
    this.detail = info.detail ?? null;
  }

  /** Structured, log-safe fields. */
  toLog(): Record<string, unknown> {
    return {
      kind: this.kind,
      status: this.status,
      correlation_id: this.correlationId,
      detail: this.detail,
      message: this.message,
    };
  }
}

/** The user must authorize again (expired/revoked grant, any 400/401 from a refresh, 401 on data). */
export class ReauthRequiredError extends ProviderError {
  readonly kind = "reauth_required" as const;
  override readonly name = "ReauthRequiredError";
}

/** 429: back off; `retryAfterSeconds` from Retry-After when present (RFC 9110 §10.2.3). */
export class RateLimitedError extends ProviderError {
  readonly kind = "rate_limited" as const;
  override readonly name = "RateLimitedError";
  constructor(
    message: string,
    readonly retryAfterSeconds: number | null,
    info: ProviderErrorInfo = {},
  ) {
    super(message, info);
  }
  override toLog() {
    return { ...super.toLog(), retry_after_seconds: this.retryAfterSeconds };
  }
}

/** 402: the provider wants payment or a plan change; retrying will not help. */
export class PaymentRequiredError extends ProviderError {
  readonly kind = "payment_required" as const;
  override readonly name = "PaymentRequiredError";
}

/** 5xx, 408, network failure or timeout: retry later with backoff. */
export class TransientProviderError extends ProviderError {
  readonly kind = "transient" as const;
  override readonly name = "TransientProviderError";
  /** True when our own timeout fired (connect or total). */
  readonly timeout: boolean;
  constructor(message: string, info: ProviderErrorInfo & { timeout?: boolean } = {}) {
    super(message, info);
    this.timeout = info.timeout ?? false;
  }
  override toLog() {
    return { ...super.toLog(), timeout: this.timeout };
  }
}

/** The provider answered, but not with the shape we expect (non-JSON, HTML, schema mismatch). */
export class MalformedResponseError extends ProviderError {
  readonly kind = "malformed" as const;
  override readonly name = "MalformedResponseError";
}

/** Another 4xx (400 on a data call, 403, 404...): our request was refused; a bug or a config issue. */
export class ProviderRejectedError extends ProviderError {
  readonly kind = "rejected" as const;
  override readonly name = "ProviderRejectedError";
}
