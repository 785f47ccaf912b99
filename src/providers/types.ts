import type { ProviderAccount, ProviderTransaction } from "../home/ledger/snapshot";

/**
 * The provider adapter contract and its typed errors. Adapters translate one provider's HTTP API
 * into these normalized shapes; services never see provider JSON. Money and quantities are exact
 * decimal strings (src/home/money.ts); timestamps are UTC `Date`s.
 */

/** How a provider connection is established: OAuth 2 code flow, a bank consent (GoCardless), a setup token (SimpleFIN). */
export type AuthType = "oauth2" | "bank_consent" | "setup_token";

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

/**
 * Credentials from an authorization that may lack a refresh token and an expiry (Alpaca's tokens
 * never expire and come alone). `ProviderTokens` keeps Schwab's stricter shape, which the
 * connection services store; this wider one is for the newer OAuth providers.
 */
export interface ProviderGrant {
  accessToken: string;
  refreshToken: string | null;
  /** null: the provider states no expiry (the token lives until the user revokes it). */
  accessTokenExpiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  scope?: string;
}

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

// The data a provider answers is the ledger's input: its shapes belong to the user's home
// (src/home/ledger/snapshot.ts), which plans against them; adapters produce them.
export type {
  AccountKind,
  ProviderAccount,
  ProviderBalances,
  ProviderHolding,
  ProviderTransaction,
} from "../home/ledger/snapshot";

/** A half-open-or-closed time window; providers treat both ends as inclusive. */
export interface DateRange {
  start: Date;
  end: Date;
}

/** The window of one snapshot. */
export interface SnapshotWindow {
  end: Date;
  /** Window start for one account (by providerAccountId); known accounts fetch incrementally. */
  startFor(providerAccountId: string): Date;
}

/** Something worth telling about a snapshot that did not fail it. */
export interface ProviderWarning {
  code: string;
  /** Our own sanitized text, never the provider's raw body. */
  message: string;
  providerAccountId?: string | null;
  /** The provider says a bank login needs attention (SimpleFIN `con.auth`, "may need attention"). */
  reauth?: boolean;
}

/** Everything one sync reads from a provider, fetched before anything is written. */
export interface ProviderSnapshot {
  accounts: { account: ProviderAccount; transactions: ProviderTransaction[]; since: Date }[];
  warnings: ProviderWarning[];
  /** HTTP requests the snapshot made to the provider's data API (SimpleFIN's quota counts them). */
  requests?: number;
  /** Provider-reported quota, if any (GoCardless account success headers). */
  quota?: { remaining: number | null; resetSeconds: number | null } | null;
}

/** An adapter that reads a whole snapshot from one credential string (see each provider's doc). */
export interface SnapshotSource {
  snapshot(credential: string, window: SnapshotWindow): Promise<ProviderSnapshot>;
}

/** What every OAuth 2 (PKCE + refresh) provider adapter offers: Schwab and the Schwab sandbox. */
export interface ProviderAdapter extends SnapshotSource {
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

/**
 * Why a call was refused for rate: the provider's short burst limit, its quota that refills over a
 * day, or our own outbound budget for the provider (`throttled`: no call was made).
 */
export type RateLimitReason = "burst" | "daily_quota" | "throttled";

/**
 * 429: back off; `retryAfterSeconds` from Retry-After (RFC 9110 §10.2.3) or the provider's own
 * reset hint when present. `reason` is set when the provider tells the two limits apart.
 */
export class RateLimitedError extends ProviderError {
  readonly kind = "rate_limited" as const;
  override readonly name = "RateLimitedError";
  readonly reason: RateLimitReason | null;
  constructor(
    message: string,
    readonly retryAfterSeconds: number | null,
    info: ProviderErrorInfo & { reason?: RateLimitReason } = {},
  ) {
    super(message, info);
    this.reason = info.reason ?? null;
  }
  override toLog() {
    return { ...super.toLog(), retry_after_seconds: this.retryAfterSeconds, reason: this.reason };
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
