/**
 * How a run's outcome changes its connection (persisted in D1, never in isolate memory):
 * success clears the trouble and schedules the next sync; a failure records `last_error`, counts
 * a consecutive failed run, and cools the connection down after repeated failures (longer after
 * a 402). Every patch sets the counters explicitly from the row read before the run, because a
 * refresh inside the run may already have written its own view of them.
 */
import type { ConnectionPatch, ConnectionRow } from "../../db/connections";
import type { ProviderWarningView } from "../../db/schema";
import type { SyncConfig } from "./config";
import type { SyncFailure } from "./failures";

/** The status to return to between attempts (the lease set `syncing`). */
export const restingStatus = (row: ConnectionRow): ConnectionRow["status"] =>
  row.status === "error" ? "error" : "active";

/** Success; `warnings` are what the provider said beside good data (kept until the next success). */
export function successPatch(now: Date, next: Date, warnings: ProviderWarningView[] = []): ConnectionPatch {
  return {
    providerWarnings: warnings,
    status: "active",
    lastSyncedAt: now,
    nextSyncAt: next,
    consecutiveFailures: 0,
    cooldownUntil: null,
    lastErrorCode: null,
    lastErrorMessage: null,
    lastErrorAt: null,
    staleReportedAt: null,
    updatedAt: now,
  };
}

const errorFields = (failure: Pick<SyncFailure, "code" | "message">, now: Date) => ({
  lastErrorCode: failure.code,
  lastErrorMessage: failure.message,
  lastErrorAt: now,
  updatedAt: now,
});

/** Between attempts: the error is visible, the failure count waits for the run's outcome. */
export function retryPatch(
  row: ConnectionRow,
  failure: SyncFailure,
  now: Date,
  delaySeconds: number,
  rateLimited: boolean,
) {
  const patch: ConnectionPatch = {
    ...errorFields(failure, now),
    status: restingStatus(row),
    consecutiveFailures: row.consecutiveFailures,
    // A 429's wait also holds back the scheduler (RFC 9110 §10.2.3 Retry-After).
    cooldownUntil: rateLimited ? new Date(now.getTime() + delaySeconds * 1000) : row.cooldownUntil,
  };
  return patch;
}

/**
 * A run that ended failed (terminal error, or dead-lettered after its last attempt). Repeated
 * failures cool down for `cooldown.ms`; a 402 for `cooldown.paymentMs` whatever the count.
 */
export function failedPatch(
  row: ConnectionRow,
  failure: Pick<SyncFailure, "kind" | "code" | "message">,
  now: Date,
  config: SyncConfig,
): ConnectionPatch {
  const failures = row.consecutiveFailures + 1;
  const at = now.getTime();
  if (failure.kind === "reauth") {
    return { ...errorFields(failure, now), status: "reauth_required", consecutiveFailures: failures };
  }
  let cooldown: Date | null = failures >= config.cooldown.afterFailures ? new Date(at + config.cooldown.ms) : null;
  if (failure.kind === "payment") cooldown = new Date(at + config.cooldown.paymentMs);
  // Try again after the cooldown, or after one backoff cap when there is none.
  const next = cooldown ?? new Date(at + config.retry.capSeconds * 1000);
  return {
    ...errorFields(failure, now),
    status: "error",
    consecutiveFailures: failures,
    cooldownUntil: cooldown,
    nextSyncAt: next,
  };
}

/**
 * A run deferred by the provider's own limit: the connection keeps its status and its failure
 * count, shows the error, and neither syncs nor takes a manual sync before `until` (RFC 9110
 * §10.2.3 Retry-After).
 */
export function deferredPatch(
  row: ConnectionRow,
  failure: Pick<SyncFailure, "code" | "message">,
  now: Date,
  until: Date,
): ConnectionPatch {
  return {
    ...errorFields(failure, now),
    status: restingStatus(row),
    consecutiveFailures: row.consecutiveFailures,
    cooldownUntil: until,
    nextSyncAt: until,
  };
}

/** Back to rest with nothing recorded against the connection (our own outbound budget's wait). */
export function restPatch(row: ConnectionRow, now: Date, next: Date | null): ConnectionPatch {
  return { status: restingStatus(row), updatedAt: now, ...(next ? { nextSyncAt: next } : {}) };
}
