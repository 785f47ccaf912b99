import { ApiError } from "../http/errors";
import type { LimitAnswer } from "./gate";

/**
 * RateLimit-Policy and RateLimit fields (IETF draft-ietf-httpapi-ratelimit-headers, structured
 * field lists): `"<policy>";q=<quota>;w=<window s>` and `"<policy>";r=<remaining>;t=<reset s>`.
 */
export function rateLimitHeaders(answers: LimitAnswer[]): Record<string, string> {
  if (answers.length === 0) return {};
  return {
    "RateLimit-Policy": answers.map((a) => `"${a.name}";q=${a.rule.burst};w=${a.rule.perSeconds}`).join(", "),
    RateLimit: answers.map((a) => `"${a.name}";r=${a.remaining};t=${a.resetSeconds}`).join(", "),
  };
}

/** 429 `rate_limited` with Retry-After (RFC 9110 §10.2.3) from the most restrictive refusal. */
export function rateLimited(answers: LimitAnswer[]): ApiError {
  const wait = Math.max(...answers.filter((a) => !a.allowed).map((a) => a.retryAfterSeconds), 1);
  return new ApiError(429, "rate_limited", `Too many requests; retry in ${wait} s.`, {
    headers: { ...rateLimitHeaders(answers), "Retry-After": String(wait) },
  });
}
