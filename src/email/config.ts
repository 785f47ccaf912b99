/**
 * The email delivery part of the env schema, beside the code it configures; src/config.ts merges
 * it into the one EnvSchema and builds `Config.email.retry` from it (README "Configuration").
 */
import { z } from "zod";

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** Queues refuses delays over 12 hours (`delaySeconds` <= 43,200). */
const MAX_QUEUE_DELAY_SECONDS = 43_200;

/** Env keys of email delivery (the `ledgerlink-email` queue's consumer). */
export const emailEnvShape = {
  /** Full-jitter backoff between deliveries: attempt n waits random(0, min(cap, base × 2^(n-1))) seconds. */
  EMAIL_RETRY_BASE_SECONDS: int(10, 1, 3600),
  EMAIL_RETRY_CAP_SECONDS: int(600, 1, MAX_QUEUE_DELAY_SECONDS),
  /**
   * Deliveries of one email before it is dead-lettered. At most 10, below wrangler.toml's
   * backstop `max_retries = 10` (11 deliveries), so the consumer always decides first and says why.
   */
  EMAIL_MAX_ATTEMPTS: int(8, 1, 10),
};

type EmailEnv = { EMAIL_RETRY_BASE_SECONDS: number; EMAIL_RETRY_CAP_SECONDS: number; EMAIL_MAX_ATTEMPTS: number };

/** Cross-field rules; called from EnvSchema's superRefine. */
export function refineEmailEnv(env: EmailEnv, ctx: z.RefinementCtx) {
  if (env.EMAIL_RETRY_CAP_SECONDS < env.EMAIL_RETRY_BASE_SECONDS) {
    ctx.addIssue({
      code: "custom",
      path: ["EMAIL_RETRY_CAP_SECONDS"],
      message: "must be at least EMAIL_RETRY_BASE_SECONDS",
    });
  }
}

/** How the email consumer retries (the same shape as the sync's, so the same backoff applies). */
export interface EmailRetry {
  baseSeconds: number;
  capSeconds: number;
  maxAttempts: number;
}

export const buildEmailRetry = (env: EmailEnv): EmailRetry => ({
  baseSeconds: env.EMAIL_RETRY_BASE_SECONDS,
  capSeconds: env.EMAIL_RETRY_CAP_SECONDS,
  maxAttempts: env.EMAIL_MAX_ATTEMPTS,
});
