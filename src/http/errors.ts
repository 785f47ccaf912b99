import type { ContentfulStatusCode } from "hono/utils/http-status";

/** A field-level validation problem (API.md: `errors[]`). */
export interface FieldError {
  path: string;
  message: string;
}

/** Stable, machine-readable error codes (API.md error table, plus resource-specific ones). */
export type ErrorCode =
  | "malformed_json"
  | "invalid_token"
  | "unauthenticated"
  | "token_expired"
  | "session_revoked"
  | "token_revoked"
  | "invalid_credentials"
  | "invalid_refresh_token"
  | "refresh_token_reused"
  | "forbidden"
  | "email_not_verified"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "validation_failed"
  | "weak_password"
  | "account_locked"
  | "invalid_mfa_token"
  | "invalid_mfa_code"
  | "mfa_already_enabled"
  | "mfa_setup_required"
  | "mfa_not_enabled"
  | "rate_limited"
  | "internal_error"
  | "misconfigured"
  | "unavailable";

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
  503: "Service Unavailable",
};

export interface ApiErrorOptions {
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** Extra members of the problem object (RFC 9457 §3.2 extensions). */
  extensions?: Record<string, unknown>;
  /** What caused it (e.g. the ProviderError), for callers that act on it; never sent to clients. */
  cause?: unknown;
}

/** An error with a stable code that the error boundary turns into problem+json. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode | (string & {}),
    readonly detail: string,
    readonly options: ApiErrorOptions = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ApiError";
  }
}

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

/** Builds the problem+json Response for an ApiError (RFC 9457, API.md "Conventions"). */
export function problemResponse(err: ApiError, requestId: string): Response {
  const body: Problem = {
    ...err.options.extensions,
    type: problemType(err.code),
    title: TITLES[err.status] ?? "Error",
    status: err.status,
    detail: err.detail,
    code: err.code,
    request_id: requestId,
    ...(err.options.errors ? { errors: err.options.errors } : {}),
  };
  const headers = new Headers(err.options.headers);
  headers.set("Content-Type", "application/problem+json");
  headers.set("X-Request-Id", requestId);
  headers.set("Cache-Control", "no-store");
  // RFC 6750 §3: every 401 names the scheme the client should use.
  if (err.status === 401 && !headers.has("WWW-Authenticate")) {
    const bearerError = err.code === "invalid_credentials" ? "" : ', error="invalid_token"';
    headers.set("WWW-Authenticate", `Bearer realm="ledgerlink"${bearerError}`);
  }
  return new Response(JSON.stringify(body), { status: err.status, headers });
}

export const notFound = (what = "resource") => new ApiError(404, "not_found", `No such ${what}.`);
