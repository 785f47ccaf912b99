/**
 * The sync part of the env schema, beside the code it configures; src/config.ts merges it into
 * the one EnvSchema and builds `Config.sync` from it (README "Configuration").
 */
import { z } from "zod";

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** wrangler [vars] may hold a TOML boolean or a string; both are accepted. */
const flag = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0", ""], { error: "must be true or false" })])
  .default(false)
  .transform((v) => v === true || v === "true" || v === "1");

/** Queues refuses delays over 12 hours (`delaySeconds` <= 43,200). */
export const MAX_QUEUE_DELAY_SECONDS = 43_200;

/** Env keys of the sync engine. */
export const syncEnvShape = {
  /** Kill switch: no scheduling, queued runs are skipped, manual sync answers 503 `sync_disabled`. */
  SYNC_DISABLED: flag,
  /** Time between successful scheduled syncs of one connection (jittered by ±10%). */
  SYNC_INTERVAL_MINUTES: int(240, 5, 7 * 1440),
  /**
   * Per provider (docs/providers/): GoCardless allows 4 successful calls per account and scope a
   * day, so every 8 hours leaves one for a manual sync; SimpleFIN's bridge refreshes banks about
   * daily and expects about 24 requests a day, so every 6 hours.
   */
  SYNC_INTERVAL_MINUTES_GOCARDLESS: int(480, 60, 7 * 1440),
  SYNC_INTERVAL_MINUTES_SIMPLEFIN: int(360, 60, 7 * 1440),
  /** Each connection's share of the provider's calls in any 24 hours (docs/providers/). */
  GOCARDLESS_DAILY_CALLS: int(4, 1, 100),
  SIMPLEFIN_DAILY_REQUESTS: int(24, 1, 1000),
  /** Full-jitter backoff: attempt n waits random(0, min(cap, base × 2^(n-1))) seconds. */
  SYNC_RETRY_BASE_SECONDS: int(5, 1, 3600),
  SYNC_RETRY_CAP_SECONDS: int(300, 1, MAX_QUEUE_DELAY_SECONDS),
  /**
   * Attempts per run before it is dead-lettered. At most 10, below wrangler.toml's backstop
   * `max_retries = 10` (11 deliveries), so the consumer always decides first and records why.
   */
  SYNC_MAX_ATTEMPTS: int(5, 1, 10),
  /** Consecutive failed runs that put a connection in cooldown, and how long it lasts. */
  SYNC_COOLDOWN_AFTER_FAILURES: int(3, 1, 100),
  SYNC_COOLDOWN_MINUTES: int(30, 1, 1440),
  /** Cooldown after the provider answers 402: retrying will not help until someone pays. */
  SYNC_PAYMENT_COOLDOWN_HOURS: int(24, 1, 720),
  /** A manual sync waits this long after the connection's last queued run (docs/contract.md "Providers, connections and data": 5 minutes). */
  SYNC_MANUAL_MIN_INTERVAL_SECONDS: int(300, 0, 86_400),
  /** How far back a connection's first sync (and a newly seen account) fetches transactions. */
  SYNC_HISTORY_DAYS: int(730, 1, 3650),
  /** How far an incremental sync reaches back before the last success, for late-posting items. */
  SYNC_OVERLAP_DAYS: int(7, 1, 90),
  /** Reconciliation: a live connection without a successful sync for this long is reported. */
  SYNC_STALE_HOURS: int(48, 1, 720),
  /** Reconciliation: a pending transaction older than this is reported as never posted. */
  SYNC_PENDING_STALE_DAYS: int(10, 1, 90),
};

type SyncEnv = {
  SYNC_RETRY_BASE_SECONDS: number;
  SYNC_RETRY_CAP_SECONDS: number;
  SYNC_INTERVAL_MINUTES: number;
  SYNC_INTERVAL_MINUTES_GOCARDLESS: number;
  SYNC_INTERVAL_MINUTES_SIMPLEFIN: number;
  GOCARDLESS_DAILY_CALLS: number;
  SIMPLEFIN_DAILY_REQUESTS: number;
  SYNC_DISABLED: boolean;
  SYNC_MAX_ATTEMPTS: number;
  SYNC_COOLDOWN_AFTER_FAILURES: number;
  SYNC_COOLDOWN_MINUTES: number;
  SYNC_PAYMENT_COOLDOWN_HOURS: number;
  SYNC_MANUAL_MIN_INTERVAL_SECONDS: number;
  SYNC_HISTORY_DAYS: number;
  SYNC_OVERLAP_DAYS: number;
  SYNC_STALE_HOURS: number;
  SYNC_PENDING_STALE_DAYS: number;
};

/** Cross-field rules; called from EnvSchema's superRefine. */
export function refineSyncEnv(env: SyncEnv, ctx: z.RefinementCtx) {
  if (env.SYNC_RETRY_CAP_SECONDS < env.SYNC_RETRY_BASE_SECONDS) {
    ctx.addIssue({
      code: "custom",
      path: ["SYNC_RETRY_CAP_SECONDS"],
      message: "must be at least SYNC_RETRY_BASE_SECONDS",
    });
  }
}

/** How often a provider's connections sync, and the share of its calls each may spend (null: none stated). */
export interface ProviderCadence {
  intervalMs: number;
  /** Units per window: GoCardless counts syncs (one call per account and scope), SimpleFIN requests. */
  quota: { limit: number; windowMs: number } | null;
  /** How far back a first sync reads, where the provider's limits say less than SYNC_HISTORY_DAYS. */
  historyMs?: number;
}

/** What the sync services read (durations in milliseconds unless named otherwise). */
export interface SyncConfig {
  disabled: boolean;
  /** Providers without a cadence of their own (Schwab, Alpaca). */
  intervalMs: number;
  cadence: { gocardless: ProviderCadence; simplefin: ProviderCadence };
  retry: { baseSeconds: number; capSeconds: number; maxAttempts: number };
  cooldown: { afterFailures: number; ms: number; paymentMs: number };
  manualMinIntervalMs: number;
  historyMs: number;
  overlapMs: number;
  staleMs: number;
  pendingStaleMs: number;
}

const MINUTE = 60_000;
const DAY = 1440 * MINUTE;

export function buildSyncConfig(env: SyncEnv): SyncConfig {
  return {
    disabled: env.SYNC_DISABLED,
    intervalMs: env.SYNC_INTERVAL_MINUTES * MINUTE,
    cadence: {
      gocardless: {
        intervalMs: env.SYNC_INTERVAL_MINUTES_GOCARDLESS * MINUTE,
        quota: { limit: env.GOCARDLESS_DAILY_CALLS, windowMs: DAY },
      },
      simplefin: {
        intervalMs: env.SYNC_INTERVAL_MINUTES_SIMPLEFIN * MINUTE,
        quota: { limit: env.SIMPLEFIN_DAILY_REQUESTS, windowMs: DAY },
        // One request a sync: the bridge caps a request at 90 days, and each counts against its
        // ~24 a day (docs/providers/simplefin.md); how deep banks' history goes is [uncertain].
        historyMs: Math.min(env.SYNC_HISTORY_DAYS, 90) * DAY,
      },
    },
    retry: {
      baseSeconds: env.SYNC_RETRY_BASE_SECONDS,
      capSeconds: env.SYNC_RETRY_CAP_SECONDS,
      maxAttempts: env.SYNC_MAX_ATTEMPTS,
    },
    cooldown: {
      afterFailures: env.SYNC_COOLDOWN_AFTER_FAILURES,
      ms: env.SYNC_COOLDOWN_MINUTES * MINUTE,
      paymentMs: env.SYNC_PAYMENT_COOLDOWN_HOURS * 60 * MINUTE,
    },
    manualMinIntervalMs: env.SYNC_MANUAL_MIN_INTERVAL_SECONDS * 1000,
    historyMs: env.SYNC_HISTORY_DAYS * DAY,
    overlapMs: env.SYNC_OVERLAP_DAYS * DAY,
    staleMs: env.SYNC_STALE_HOURS * 60 * MINUTE,
    pendingStaleMs: env.SYNC_PENDING_STALE_DAYS * DAY,
  };
}

/** A provider slug's cadence: a sandbox follows its real twin's rules. */
export function cadenceOf(config: SyncConfig, provider: string): ProviderCadence {
  const family = provider.replace(/^sandbox_/, "");
  if (family === "gocardless" || family === "simplefin") return config.cadence[family];
  return { intervalMs: config.intervalMs, quota: null };
}
