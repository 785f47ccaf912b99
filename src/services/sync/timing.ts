/** The sync engine's clock arithmetic: backoff, lease, horizons, next sync time. */
import { cadenceOf, MAX_QUEUE_DELAY_SECONDS, type SyncConfig } from "./config";

/**
 * A sync holds its connection's lease at most this long: a Queue consumer invocation may run up
 * to 15 minutes of wall time, so a lease older than that belongs to a consumer that died.
 */
export const SYNC_LEASE_MS = 15 * 60_000;

/**
 * Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * after failed attempt n (1-based) wait random(0, min(cap, base × 2^(n-1))) whole seconds.
 */
export function backoffSeconds(attempt: number, retry: SyncConfig["retry"], random: () => number): number {
  const ceiling = Math.min(retry.capSeconds, retry.baseSeconds * 2 ** Math.max(0, attempt - 1));
  return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.floor(random() * (ceiling + 1)));
}

/** A provider's Retry-After (RFC 9110 §10.2.3), honoured as given, within what Queues can delay. */
export function retryAfterDelay(seconds: number): number {
  return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(1, Math.ceil(seconds)));
}

/**
 * How long a queued run may take with all its retries. The claim pushes `next_sync_at` this far,
 * so the cron does not queue the connection again while the run is alive, and a lost message
 * delays the connection by at most this.
 */
export function runHorizon(now: Date, config: SyncConfig): Date {
  const retries = config.retry.maxAttempts * (config.retry.capSeconds * 1000 + SYNC_LEASE_MS);
  return new Date(now.getTime() + retries);
}

/**
 * Next scheduled sync after a success: the provider's interval, spread ±10% so connections do
 * not bunch (and a quota-bound provider's syncs spread over the day).
 */
export function nextAfterSuccess(now: Date, config: SyncConfig, random: () => number, provider: string): Date {
  const { intervalMs } = cadenceOf(config, provider);
  return new Date(now.getTime() + Math.round(intervalMs * (0.9 + 0.2 * random())));
}

/** A provider's 429 that named no wait, deferred: an hour (its quota frees up within the day). */
export const DEFAULT_DEFER_SECONDS = 3600;
