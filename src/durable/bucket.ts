/** A token bucket: `burst` tokens, refilled at `refill` tokens per `perSeconds`. */
export interface Rule {
  burst: number;
  refill: number;
  perSeconds: number;
}

/** A rate-limit check as an object receives it: which rule, its parameters, an optional sub-key. */
export interface LimitRequest {
  name: string;
  rule: Rule;
  /** Distinguishes buckets of one rule within a subject (e.g. a session id). */
  key?: string;
}

/** Bucket state: tokens left at `at` (epoch ms). */
export interface Bucket {
  tokens: number;
  at: number;
}

/** What a bucket decided, with the request's rule (the RateLimit fields need both). */
export interface LimitAnswer extends Decision {
  name: string;
  rule: Rule;
  /** True for the first refusal after the bucket last allowed a request (audit once per burst). */
  firstDenial: boolean;
}

export interface Decision {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until the bucket is full again (RateLimit `t`). */
  resetSeconds: number;
  /** Seconds until one token is available; 0 when allowed (Retry-After). */
  retryAfterSeconds: number;
}

/**
 * Takes one token if it can (`peek`: only says whether it could). Pure: the caller owns the
 * state, so a single-threaded owner (a Durable Object) makes the decision exact.
 */
export function take(
  rule: Rule,
  bucket: Bucket | undefined,
  now: number,
  peek = false,
): { bucket: Bucket; decision: Decision } {
  const ratePerMs = rule.refill / (rule.perSeconds * 1000);
  const prev = bucket ?? { tokens: rule.burst, at: now };
  const tokens = Math.min(rule.burst, prev.tokens + Math.max(0, now - prev.at) * ratePerMs);
  const allowed = tokens >= 1;
  const left = allowed && !peek ? tokens - 1 : tokens;
  const next = { tokens: left, at: now };
  return {
    bucket: next,
    decision: {
      allowed,
      remaining: Math.floor(left),
      resetSeconds: Math.ceil((rule.burst - left) / ratePerMs / 1000),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - left) / ratePerMs / 1000)),
    },
  };
}
