import type { MiddlewareHandler } from "hono";
import { DomainError } from "../errors";
import { type AuthPoint, createMetrics } from "../metrics";
import type { AppEnv } from "./app-env";

/** How a refusal counts: a lockout, a limit, an outage, or plain wrong credentials. */
function outcomeOf(status: number, code: string): AuthPoint["outcome"] {
  if (status < 400) return "success";
  if (code === "account_locked") return "locked";
  if (code === "gate_unavailable" || code === "unavailable" || status >= 500) return "unavailable";
  if (status === 429 || code === "account_disabled" || code === "email_not_verified") return "denied";
  return "failure";
}

/**
 * One `auth` data point per answer of an authentication route (src/metrics.ts): its outcome and
 * the stable error code of a refusal. Read after the route answered, its error included.
 */
export function authMetric(action: AuthPoint["action"]): MiddlewareHandler<AppEnv> {
  return async function authMetric(c, next) {
    await next();
    const status = c.res.status;
    const code = c.error instanceof DomainError ? c.error.code : status >= 500 ? "internal_error" : "";
    createMetrics(c.env?.METRICS, c.get("logger")).auth({ action, outcome: outcomeOf(status, code), reason: code });
  };
}
