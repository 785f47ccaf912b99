import type { RateLimitState } from "../errors";

/**
 * RateLimit-Policy and RateLimit fields (IETF draft-ietf-httpapi-ratelimit-headers, structured
 * field lists): `"<policy>";q=<quota>;w=<window s>` and `"<policy>";r=<remaining>;t=<reset s>`.
 */
export function rateLimitHeaders(states: readonly RateLimitState[]): Record<string, string> {
  if (states.length === 0) return {};
  return {
    "RateLimit-Policy": states.map((a) => `"${a.name}";q=${a.rule.burst};w=${a.rule.perSeconds}`).join(", "),
    RateLimit: states.map((a) => `"${a.name}";r=${a.remaining};t=${a.resetSeconds}`).join(", "),
  };
}
