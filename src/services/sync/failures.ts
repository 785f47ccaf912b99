/**
 * What a failed sync attempt means: retry it, stop and ask the user to reauthorize, cool down
 * after a 402, or stop (an answer retrying will not fix). Codes are the stable `error.code` of
 * a run and `last_error.code` of its connection.
 */
import { DomainError } from "../../errors";
import { ProviderError, type RateLimitedError } from "../../providers/types";
import { lastErrorCode } from "../connections/errors";
import { lastErrorMessage } from "../connections/last-error";

/** `defer`: the provider's own limit for the day (or a long Retry-After); tried again when it says. */
export type SyncFailureKind = "retry" | "defer" | "reauth" | "payment" | "fatal";

export interface SyncFailure {
  kind: SyncFailureKind;
  code: string;
  message: string;
  /** A 429's Retry-After, when the provider sent one. */
  retryAfterSeconds: number | null;
  /** The provider's 429 (a deferral once retrying within the run is no use). */
  rateLimited: boolean;
  /** Our own outbound budget refused the call (no call was made): never the connection's trouble. */
  throttled?: boolean;
  /** The refresh already flagged `reauth_required` and audited it (do not audit twice). */
  audited: boolean;
}

/** The provider listed no accounts: an error, never "the user has nothing" (docs/design.md "Sync"). */
export class EmptyAnswerError extends Error {
  override readonly name = "EmptyAnswerError";
}

/** A Retry-After longer than this (15 minutes) is not waited out inside a run. */
const DEFER_AFTER_SECONDS = 900;

/** The message recorded for a code (ours, never the provider's body). */
export const failureMessage = lastErrorMessage;

function fromProvider(err: ProviderError, audited: boolean): SyncFailure {
  const code = lastErrorCode(err);
  const base = { code, message: failureMessage(code), retryAfterSeconds: null, audited, rateLimited: false };
  switch (err.kind) {
    case "reauth_required":
      return { ...base, kind: "reauth" };
    case "rate_limited": {
      const limited = err as RateLimitedError;
      const wait = limited.retryAfterSeconds;
      if (limited.reason === "throttled") {
        const code = "provider_throttled";
        return {
          ...base,
          code,
          message: failureMessage(code),
          kind: "retry",
          retryAfterSeconds: wait ?? 1,
          rateLimited: true,
          throttled: true,
        };
      }
      // A daily quota (GoCardless's per-account 4/day, SimpleFIN's) or a wait longer than the run's
      // retries could cover ends the run as deferred; a short burst limit is retried as told.
      const defer = limited.reason === "daily_quota" || (wait !== null && wait > DEFER_AFTER_SECONDS);
      return { ...base, kind: defer ? "defer" : "retry", retryAfterSeconds: wait, rateLimited: true };
    }
    case "transient":
      return { ...base, kind: "retry" };
    case "payment_required":
      return { ...base, kind: "payment" };
    default:
      // Malformed or refused: the same request would get the same answer.
      return { ...base, kind: "fatal" };
  }
}

/** Classifies anything a sync attempt threw. */
export function classifyFailure(err: unknown): SyncFailure {
  if (err instanceof ProviderError) return fromProvider(err, false);
  if (err instanceof EmptyAnswerError) {
    return {
      kind: "fatal",
      code: "provider_empty_answer",
      message: failureMessage("provider_empty_answer"),
      retryAfterSeconds: null,
      audited: false,
      rateLimited: false,
    };
  }
  if (err instanceof DomainError) {
    // From freshAccessToken: the refresh already recorded its failure on the connection.
    if (err.cause instanceof ProviderError) return fromProvider(err.cause, true);
    const base = { message: failureMessage(err.code), retryAfterSeconds: null, audited: true, rateLimited: false };
    switch (err.code) {
      case "reauth_required":
        return { ...base, kind: "reauth", code: "reauth_required" };
      case "provider_unavailable":
        return { ...base, kind: "retry", code: err.code, retryAfterSeconds: err.data.retryAfterSeconds ?? null };
      case "unavailable":
        return { ...base, kind: "fatal", code: "credentials_unreadable" };
      case "provider_error":
      case "provider_not_available":
        return { ...base, kind: "fatal", code: "provider_error" };
    }
  }
  // A bug or a D1 hiccup: worth retrying; the dead-letter queue catches it if it persists.
  return {
    kind: "retry",
    code: "internal_error",
    message: failureMessage("internal_error"),
    retryAfterSeconds: null,
    audited: false,
    rateLimited: false,
  };
}
