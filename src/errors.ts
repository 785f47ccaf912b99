/**
 * Domain errors: a stable code (docs/contract.md "Errors") with typed data, and nothing about
 * HTTP. Services, repositories and jobs throw these; src/http/problems.ts alone turns a code into a
 * status, a title and headers.
 */

/** A field-level validation problem (`errors[]` of a problem document). */
export interface FieldError {
  path: string;
  message: string;
}

/** Every stable error code, grouped as the contract lists them. */
export const ERROR_CODES = [
  // Request shape
  "malformed_json",
  "validation_failed",
  "weak_password",
  "payload_too_large",
  "unsupported_media_type",
  "method_not_allowed",
  "upgrade_required",
  "not_found",
  // Identity
  "invalid_token",
  "unauthenticated",
  "token_expired",
  "session_revoked",
  "token_revoked",
  "invalid_credentials",
  "invalid_refresh_token",
  "refresh_token_reused",
  "forbidden",
  "email_not_verified",
  "account_disabled",
  "account_locked",
  "email_taken",
  "invalid_mfa_token",
  "invalid_mfa_code",
  "mfa_already_enabled",
  "mfa_setup_required",
  "mfa_not_enabled",
  "cannot_revoke_current_session",
  // Administration
  "cannot_modify_self",
  "admin_by_configuration",
  "cannot_delete_self",
  "cannot_delete_admin",
  "restore_not_supported",
  // Connections and sync
  "provider_not_available",
  "provider_not_configured",
  "provider_quota_exhausted",
  "setup_token_invalid",
  "setup_token_claimed",
  "provider_unavailable",
  "provider_error",
  "reauth_required",
  "reauth_not_needed",
  "connection_not_ready",
  "connection_limit_reached",
  "invalid_state",
  "authorization_denied",
  "authorization_failed",
  "sync_too_soon",
  "sync_disabled",
  "already_replayed",
  "dead_letter_expired",
  // Limits and the service itself
  "rate_limited",
  "internal_error",
  "misconfigured",
  "unavailable",
  "gate_unavailable",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Typed facts a caller may act on; the HTTP edge renders them (Retry-After, errors[], ...). */
export interface ErrorData {
  /** Field problems (`validation_failed`, `weak_password`). */
  errors?: FieldError[];
  /** When trying again makes sense (seconds): a lock, a limit, a cooldown. */
  retryAfterSeconds?: number;
  /** Extra members of the problem document (RFC 9457 §3.2), e.g. `retry_at`. */
  extensions?: Record<string, unknown>;
  /** The methods a path does allow (`method_not_allowed`). */
  allow?: string[];
  /**
   * Where the error arose when the same code means a different thing (e.g. a wrong MFA code
   * during login, or in a logged-in session; a provider not offered for a new, or an existing
   * connection).
   */
  during?: "login" | "session" | "new_connection" | "existing_connection";
  /** Rate-limit state to report with a refusal (RateLimit fields). */
  rateLimits?: readonly RateLimitState[];
}

/** One bucket's state, as the RateLimit / RateLimit-Policy fields report it. */
export interface RateLimitState {
  name: string;
  rule: { burst: number; perSeconds: number };
  remaining: number;
  resetSeconds: number;
}

/** The error services throw. `detail` is for people; `code` and `data` are for programs. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly data: ErrorData = {},
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = "DomainError";
  }
}

/** Shorthand: `throw fail("not_found", "No such connection.")`. */
export const fail = (code: ErrorCode, detail: string, data?: ErrorData, cause?: unknown) =>
  new DomainError(code, detail, data, cause === undefined ? undefined : { cause });

export const notFound = (what = "resource") => fail("not_found", `No such ${what}.`);

/**
 * 503 `gate_unavailable`: a security check (a limit, a lockout, a count of wrong answers) could
 * not be made, so the request is refused rather than let through unchecked (fail closed).
 */
export const gateUnavailable = (cause?: unknown) =>
  fail(
    "gate_unavailable",
    "A security check could not be made right now; try again shortly.",
    { retryAfterSeconds: 5 },
    cause,
  );

/** 422 `validation_failed` for these fields, in the shape zod failures take. */
export const invalidFields = (errors: FieldError[], detail = "The request did not pass validation.") =>
  fail("validation_failed", detail, { errors });

/** 422 `validation_failed` for one field. */
export const invalidField = (path: string, message: string, detail?: string) =>
  invalidFields([{ path, message }], detail);
