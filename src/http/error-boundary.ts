import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { DomainError, fail } from "../errors";
import { createLogger } from "../logger";
import type { AppEnv } from "./app-env";
import { problemAnswer, statusOf } from "./problems";

const requestIdOf = (c: Context<AppEnv>) => c.get("requestId") ?? crypto.randomUUID();

/**
 * The problem as the context's response, so the headers set before the failure (rate-limit
 * fields, request id, `Vary`) stay on it; Hono drops them from a bare Response.
 */
const answer = (c: Context<AppEnv>, problem: DomainError, requestId: string) => {
  const { body, init } = problemAnswer(problem, requestId);
  return c.newResponse(body, init);
};

// Hono's own middleware signals with HTTPException; map the ones it raises to stable codes.
function fromHttpException(err: HTTPException): DomainError {
  if (err.status === 400) {
    return /json/i.test(err.message)
      ? fail("malformed_json", "The request body is not valid JSON.")
      : fail("validation_failed", err.message || "Bad request.");
  }
  if (err.status === 401) return fail("unauthenticated", "Authentication is required.");
  if (err.status === 403) return fail("forbidden", "Not allowed.");
  if (err.status === 413) return fail("payload_too_large", "The request body is too large.");
  return fail("internal_error", "An unexpected error occurred.");
}

/** The single error boundary: every failure becomes RFC 9457 problem+json (docs/contract.md "Errors"). */
export const onError: ErrorHandler<AppEnv> = (err, c) => {
  const requestId = requestIdOf(c);
  const log = c.get("logger") ?? createLogger("error", { request_id: requestId });
  let problem: DomainError;
  if (err instanceof DomainError) problem = err;
  else if (err instanceof HTTPException) problem = fromHttpException(err);
  else problem = fail("internal_error", `An unexpected error occurred. Quote request id ${requestId}.`);
  if (!(err instanceof DomainError) && statusOf(problem) >= 500) {
    // Internals go to the log only, never to the client (docs/design.md "Errors").
    log.error("unhandled error", {
      code: problem.code,
      error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
    });
  }
  return answer(c, problem, requestId);
};

export const onNotFound: NotFoundHandler<AppEnv> = (c) =>
  answer(c, fail("not_found", `No route for ${c.req.method} ${c.req.path}.`), requestIdOf(c));

/** 405 with `Allow` (RFC 9110 §15.5.6), used by Hono's method-not-allowed middleware. */
export const onMethodNotAllowed = (c: Context<AppEnv>, methods: string[]) =>
  answer(c, fail("method_not_allowed", `${c.req.method} is not allowed here.`, { allow: methods }), requestIdOf(c));
