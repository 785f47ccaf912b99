import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { createLogger } from "../logger";
import type { AppEnv } from "./app-env";
import { ApiError, problemResponse } from "./errors";

const requestIdOf = (c: Context<AppEnv>) => c.get("requestId") ?? crypto.randomUUID();

// Hono's own middleware signals with HTTPException; map the ones it raises to stable codes.
function fromHttpException(err: HTTPException): ApiError {
  if (err.status === 400) {
    return /json/i.test(err.message)
      ? new ApiError(400, "malformed_json", "The request body is not valid JSON.")
      : new ApiError(400, "validation_failed", err.message || "Bad request.");
  }
  if (err.status === 401) return new ApiError(401, "unauthenticated", "Authentication is required.");
  if (err.status === 403) return new ApiError(403, "forbidden", "Not allowed.");
  if (err.status === 413) return new ApiError(413, "payload_too_large", "The request body is too large.");
  return new ApiError(500, "internal_error", "An unexpected error occurred.");
}

/** The single error boundary: every failure becomes RFC 9457 problem+json (API.md). */
export const onError: ErrorHandler<AppEnv> = (err, c) => {
  const requestId = requestIdOf(c);
  const log = c.get("logger") ?? createLogger("error", { request_id: requestId });
  let apiError: ApiError;
  if (err instanceof ApiError) apiError = err;
  else if (err instanceof HTTPException) apiError = fromHttpException(err);
  else apiError = new ApiError(500, "internal_error", `An unexpected error occurred. Quote request id ${requestId}.`);
  if (!(err instanceof ApiError) && apiError.status >= 500) {
    // Internals go to the log only, never to the client (ARCHITECTURE.md §4 "Errors").
    log.error("unhandled error", {
      code: apiError.code,
      error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
    });
  }
  return problemResponse(apiError, requestId);
};

export const onNotFound: NotFoundHandler<AppEnv> = (c) =>
  problemResponse(new ApiError(404, "not_found", `No route for ${c.req.method} ${c.req.path}.`), requestIdOf(c));

/** 405 with `Allow` (RFC 9110 §15.5.6), used by Hono's method-not-allowed middleware. */
export const onMethodNotAllowed = (c: Context<AppEnv>, methods: string[]) =>
  problemResponse(
    new ApiError(405, "method_not_allowed", `${c.req.method} is not allowed here.`, {
      headers: { Allow: methods.join(", ") },
    }),
    requestIdOf(c),
  );
