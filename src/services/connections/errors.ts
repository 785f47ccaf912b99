/**
 * Connection failures: the API errors services raise, and how a provider failure changes a
 * connection (status, last_error, failures, cooldown). Both are keyed by stable codes.
 */
import type { ConnectionPatch, ConnectionRow } from "../../db/connections";
import { type DomainError, fail } from "../../errors";
import { type ProviderError, RateLimitedError, TransientProviderError } from "../../providers/types";
import { lastErrorMessage } from "./last-error";

export const invalidState = () =>
  fail(
    "invalid_state",
    "The authorization request is unknown, already used, expired or not yours. Start the connection again.",
  );

export const providerNotAvailable = (offered: string[]) =>
  fail("provider_not_available", "This provider is not offered here; see GET /api/v1/providers.", {
    errors: [{ path: "provider", message: offered.length ? `must be one of: ${offered.join(", ")}` : "none offered" }],
  });

export const providerNotConfigured = (slug: string) =>
  fail(
    "provider_not_configured",
    `${slug} is listed here but its credentials are not configured; the operator must set them first.`,
    { errors: [{ path: "provider", message: "is not configured on this deployment" }] },
  );

export const reauthRequired = () =>
  fail("reauth_required", "The provider no longer accepts this connection's credentials; reauthorize it.");

export const notConnected = () =>
  fail("connection_not_ready", "The connection has no credentials yet; finish authorizing it first.");

/** Seconds to wait after a 429 that named none (docs/providers/schwab.md: no capture shows Retry-After). */
export const DEFAULT_COOLDOWN_SECONDS = 60;

/** What a provider failure means for the caller: the API error to answer with. */
export function providerApiError(err: ProviderError): DomainError {
  // `cause` keeps the typed failure for callers that act on it (the sync engine's retry policy).
  const cause = err;
  switch (err.kind) {
    case "reauth_required":
      return fail("reauth_required", reauthRequired().detail, {}, cause);
    case "rate_limited": {
      const wait = (err as RateLimitedError).retryAfterSeconds ?? DEFAULT_COOLDOWN_SECONDS;
      return fail(
        "provider_unavailable",
        "The provider is rate limiting us; try again later.",
        { retryAfterSeconds: wait },
        cause,
      );
    }
    case "transient":
      return fail(
        "provider_unavailable",
        "The provider did not answer in time or failed; try again.",
        { retryAfterSeconds: 30 },
        cause,
      );
    case "payment_required":
      return fail("provider_error", "The provider refused the request until its account is paid up.", {}, cause);
    default:
      return fail("provider_error", "The provider answered in a way we could not use.", {}, cause);
  }
}

/** The `last_error.code` a provider failure is recorded under. */
export function lastErrorCode(err: ProviderError): string {
  switch (err.kind) {
    case "reauth_required":
      return "reauth_required";
    case "rate_limited":
      return "provider_rate_limited";
    case "transient":
      return "provider_unavailable";
    case "payment_required":
      return "provider_payment_required";
    default:
      return "provider_error";
  }
}

/**
 * How a failed provider call changes a connection with credentials:
 * re-auth → `reauth_required`; 429 → same status, cooldown until Retry-After; 5xx/timeout → same
 * status (retry later); 402, malformed or refused → `error`. Every kind records `last_error` and
 * counts a consecutive failure. Messages are ours, never the provider's body.
 */
export function providerFailurePatch(err: ProviderError, row: ConnectionRow, now: Date): ConnectionPatch {
  const code = lastErrorCode(err);
  const patch: ConnectionPatch = {
    lastErrorCode: code,
    lastErrorMessage: lastErrorMessage(code),
    lastErrorAt: now,
    consecutiveFailures: row.consecutiveFailures + 1,
    updatedAt: now,
  };
  if (err.kind === "reauth_required") patch.status = "reauth_required";
  else if (err instanceof RateLimitedError) {
    const seconds = err.retryAfterSeconds ?? DEFAULT_COOLDOWN_SECONDS;
    patch.cooldownUntil = new Date(now.getTime() + seconds * 1000);
  } else if (!(err instanceof TransientProviderError)) patch.status = "error";
  return patch;
}

/** Log- and audit-safe facts of a provider failure (no bodies, no tokens). */
export const failureDetails = (err: ProviderError) => ({
  kind: err.kind,
  http_status: err.status,
  correlation_id: err.correlationId,
  detail: err.detail,
});
