import type { Context, MiddlewareHandler } from "hono";
import { emailSubject } from "../limiter/client";
import { type LimitCheck, takeLimits } from "../services/limits";
import type { RuleName } from "../services/rate-rules";
import type { AppEnv } from "./app-env";
import { depsOf } from "./deps";
import { rateLimitHeaders } from "./rate-limit-headers";
import { metaOf } from "./request";

/** Which subject a rule counts against on an anonymous route. */
export type LimitKey = "ip" | "email";

/** The body's `email`, normalised, when there is one (the validator judges it later). */
async function bodyEmail(c: Context<AppEnv>): Promise<string | null> {
  try {
    const body = (await c.req.json()) as { email?: unknown };
    return typeof body.email === "string" ? body.email.trim().toLowerCase() : null;
  } catch {
    return null;
  }
}

/** Sets the RateLimit fields on the response (also used by requireAuth and refresh). */
export function applyRateLimitHeaders(c: Context<AppEnv>, answers: Parameters<typeof rateLimitHeaders>[0]) {
  for (const [k, v] of Object.entries(rateLimitHeaders(answers))) c.header(k, v);
}

/**
 * Rate limits an anonymous route by client (IPv4, or IPv6 /64) and/or the body's email, each in
 * its own Limiter (`ip:<client>`, `email:<sha256>`); src/services/limits.ts decides and refuses.
 * `failClosed`: the route guards credentials, so a Limiter outage refuses it (503) instead of
 * letting it through unlimited.
 */
export function rateLimit(
  limits: { rule: RuleName; by: LimitKey }[],
  options: { failClosed?: boolean } = {},
): MiddlewareHandler<AppEnv> {
  return async function rateLimit(c, next) {
    const checks: LimitCheck[] = [];
    for (const l of limits) {
      if (l.by === "ip") checks.push({ rule: l.rule, subject: `ip:${c.get("client").key}`, kind: "ip" });
      else {
        const email = await bodyEmail(c);
        if (email) checks.push({ rule: l.rule, subject: await emailSubject(email), kind: "email" });
      }
    }
    applyRateLimitHeaders(c, await takeLimits(depsOf(c), metaOf(c), checks, options));
    await next();
  };
}
