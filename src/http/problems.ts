/**
 * The one map from domain errors to HTTP (RFC 9457 problem details, docs/contract.md
 * "Errors"): status, title and headers per code. Nothing else in the code base knows a status.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { DomainError, ErrorCode, FieldError } from "../errors";
import { rateLimitHeaders } from "./rate-limit-headers";

type StatusOf = ContentfulStatusCode | ((err: DomainError) => ContentfulStatusCode);

/** Status per code; a function where the same code answers differently by context. */
const STATUS: Record<ErrorCode, StatusOf> = {
  malformed_json: 400,
  validation_failed: 422,
  weak_password: 422,
  payload_too_large: 413,
  unsupported_media_type: 415,
  method_not_allowed: 405,
  upgrade_required: 426,
  not_found: 404,
  invalid_token: 400,
  unauthenticated: 401,
  token_expired: 401,
  session_revoked: 401,
  token_revoked: 401,
  invalid_credentials: 401,
  invalid_refresh_token: 401,
  refresh_token_reused: 401,
  forbidden: 403,
  email_not_verified: 403,
  account_disabled: 403,
  account_locked: 423,
  email_taken: 409,
  invalid_mfa_token: 401,
  // A wrong code is a failed login step (401), or a bad input from a logged-in session (400).
  invalid_mfa_code: (e) => (e.data.during === "login" ? 401 : 400),
  mfa_already_enabled: 409,
  mfa_setup_required: 409,
  mfa_not_enabled: 409,
  cannot_revoke_current_session: 409,
  cannot_modify_self: 409,
  admin_by_configuration: 409,
  cannot_delete_self: 409,
  cannot_delete_admin: 403,
  // This deployment's storage keeps no history to restore from (local development).
  restore_not_supported: 501,
  // A client asking for a provider not offered here (422), or one that stopped being offered
  // for an existing connection (503: not the client's doing).
  provider_not_available: (e) => (e.data.during === "existing_connection" ? 503 : 422),
  // A provider this code knows and this deployment lists, without its credentials set.
  provider_not_configured: 422,
  // The connection's share of the provider's calls is spent (GoCardless 4/day, SimpleFIN 24/day).
  provider_quota_exhausted: 429,
  setup_token_invalid: 422,
  // SimpleFIN answers 403 to a second claim: the person makes a new token at their bridge.
  setup_token_claimed: 409,
  provider_unavailable: 503,
  provider_error: 502,
  reauth_required: 409,
  reauth_not_needed: 409,
  connection_not_ready: 409,
  connection_limit_reached: 409,
  invalid_state: 400,
  authorization_denied: 400,
  authorization_failed: 400,
  sync_too_soon: 429,
  sync_disabled: 503,
  already_replayed: 409,
  // An email dead letter whose sealed message was purged (7 days) or no longer opens.
  dead_letter_expired: 409,
  rate_limited: 429,
  internal_error: 500,
  misconfigured: 503,
  unavailable: 503,
  gate_unavailable: 503,
};

/** Headers a code always carries. */
const FIXED_HEADERS: Partial<Record<ErrorCode, Record<string, string>>> = {
  unsupported_media_type: { "Accept-Post": "application/json", "Accept-Patch": "application/json" },
  upgrade_required: { Upgrade: "websocket" },
};

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  423: "Locked",
  426: "Upgrade Required",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/** RFC 9457 problem details body. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export const problemType = (code: string) => `urn:ledgerlink:problem:${code}`;

export function statusOf(err: DomainError): ContentfulStatusCode {
  const s = STATUS[err.code];
  return typeof s === "function" ? s(err) : s;
}

/** The problem+json body for a domain error (also the OpenAPI document's examples). */
export function problemBody(err: DomainError, requestId: string): Problem {
  const status = statusOf(err);
  return {
    ...err.data.extensions,
    type: problemType(err.code),
    title: TITLES[status] ?? "Error",
    status,
    detail: err.detail,
    code: err.code,
    request_id: requestId,
    ...(err.data.errors ? { errors: err.data.errors } : {}),
  };
}

/**
 * The problem+json answer for a domain error: its body and its status and headers, which the
 * error boundary hands to the request's context (so headers set earlier stay on it).
 */
export function problemAnswer(
  err: DomainError,
  requestId: string,
): { body: string; init: { status: ContentfulStatusCode; headers: Headers } } {
  const body = problemBody(err, requestId);
  const { status } = body;
  const headers = new Headers(FIXED_HEADERS[err.code]);
  if (err.data.rateLimits)
    for (const [k, v] of Object.entries(rateLimitHeaders(err.data.rateLimits))) headers.set(k, v);
  // RFC 9110 §10.2.3: delay-seconds, at least 1.
  if (err.data.retryAfterSeconds !== undefined) {
    headers.set("Retry-After", String(Math.max(1, Math.ceil(err.data.retryAfterSeconds))));
  }
  if (err.data.allow) headers.set("Allow", err.data.allow.join(", "));
  headers.set("Content-Type", "application/problem+json");
  headers.set("X-Request-Id", requestId);
  headers.set("Cache-Control", "no-store");
  // RFC 6750 §3: every 401 names the scheme the client should use.
  if (status === 401) {
    const bearerError = err.code === "invalid_credentials" ? "" : ', error="invalid_token"';
    headers.set("WWW-Authenticate", `Bearer realm="ledgerlink"${bearerError}`);
  }
  return { body: JSON.stringify(body), init: { status: status as ContentfulStatusCode, headers } };
}
