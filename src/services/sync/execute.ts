/**
 * One attempt of one sync run (what the queue consumer calls per message), in at most three calls
 * to the user's home and two D1 round trips besides the provider's credentials
 * (docs/design.md "Sync"):
 *
 * 1. D1: take the connection's sync lease and read its row, in one batch. The lease keeps two
 *    syncs of one connection from calling the provider together, whatever queued them.
 * 2. home `begin`: the run is running, its listeners told; the answer gives the windows.
 * 3. the provider: credentials, then everything, before anything is written.
 * 4. home `complete` (plan, apply, finish, publish: one transaction) or `fail`.
 * 5. D1: the connection's outcome, the lease released, the audit rows, in one batch.
 *
 * A redelivered message of a finished run is acknowledged and ignored.
 */

import { leaseForSync, updateUnderSyncLease } from "../../db/connection-sync";
import { type ConnectionRow, deleteUserConnection, findConnection } from "../../db/connections";
import { countOutcome } from "../../db/outcomes";
import { clearDrift, upsertDrift } from "../../db/reconciliation";
import { liveEvent } from "../../home/events";
import type { SyncMessage } from "../../home/messages";
import { type SyncPoint, statusClass } from "../../metrics";
import { ProviderError, type ProviderSnapshot } from "../../providers/types";
import { connectionAudit } from "../connections/audit";
import { revokeConsent } from "../connections/revoke";
import { jobMeta } from "../context";
import { cadenceOf } from "./config";
import type { SyncDeps } from "./deps";
import { classifyFailure, type SyncFailure } from "./failures";
import { metered } from "./meter";
import { deferredPatch, failedPatch, restingStatus, restPatch, retryPatch, successPatch } from "./outcome";
import { fetchAnswer, warningsOf } from "./snapshot";
import { backoffSeconds, DEFAULT_DEFER_SECONDS, nextAfterSuccess, retryAfterDelay, SYNC_LEASE_MS } from "./timing";

/** What the consumer does with the message. */
export type AttemptResult =
  | { action: "ack"; outcome: "succeeded" | "failed" | "skipped" | "deferred" | "duplicate" }
  | { action: "retry"; delaySeconds: number; error: SyncFailure }
  | { action: "dead_letter"; error: Pick<SyncFailure, "code" | "message"> };

const ack = (outcome: "succeeded" | "failed" | "skipped" | "deferred" | "duplicate"): AttemptResult => ({
  action: "ack",
  outcome,
});

/** What an attempt learnt on its way, for its metric point. */
interface Observed {
  provider: string;
  rowsWritten: number;
  /** The provider's HTTP status of a failure (null: none, or no provider call). */
  status: number | null;
  called: boolean;
}

const metricOutcome = (r: AttemptResult): SyncPoint["outcome"] => {
  if (r.action === "retry") return "retry";
  if (r.action === "dead_letter") return "dead_letter";
  if (r.outcome === "succeeded" || r.outcome === "failed" || r.outcome === "deferred") return r.outcome;
  return "skipped";
};

/** Why a leased-or-not connection does not sync now; null when the lease was taken. */
function skipReason(
  deps: SyncDeps,
  row: ConnectionRow,
  leased: boolean,
  coolingDown: boolean,
): { code: string; message: string } | null {
  if (leased) return null;
  if (row.status === "reauth_required") {
    return { code: "reauth_required", message: "The connection needs reauthorization before it can sync." };
  }
  if (!row.accessTokenEnc || !["active", "error", "syncing"].includes(row.status)) {
    return { code: "connection_not_ready", message: "The connection is not authorized yet." };
  }
  if (coolingDown && row.cooldownUntil && row.cooldownUntil > deps.now()) {
    return { code: "cooldown", message: "The connection is cooling down after provider trouble." };
  }
  return { code: "sync_in_progress", message: "Another sync of this connection was running." };
}

/** Runs attempt `attempt` (1-based, Queues' `message.attempts`) of the message's run; one metric point. */
export async function runSyncAttempt(deps: SyncDeps, message: SyncMessage, attempt: number): Promise<AttemptResult> {
  const began = Date.now();
  const observed: Observed = { provider: "unknown", rowsWritten: 0, status: null, called: false };
  const { deps: counted, counts } = metered(deps);
  const result = await attemptRun(counted, message, attempt, observed);
  // What the attempt cost in calls besides the provider's (the design's bound: 3 and 2, plus the
  // credentials' own reads); bench:sync reports these.
  deps.logger.info("sync attempt cost", {
    run_id: message.run_id,
    attempt,
    outcome: metricOutcome(result),
    home_calls: counts.homeCalls,
    d1_round_trips: counts.d1RoundTrips,
  });
  deps.metrics.sync({
    provider: observed.provider,
    outcome: metricOutcome(result),
    statusClass: observed.status !== null ? statusClass(observed.status) : observed.called ? "2xx" : "none",
    trigger: message.trigger,
    durationMs: Date.now() - began,
    rowsWritten: observed.rowsWritten,
    attempt,
  });
  return result;
}

async function attemptRun(
  deps: SyncDeps,
  message: SyncMessage,
  attempt: number,
  observed: Observed,
): Promise<AttemptResult> {
  const started = deps.now();
  const killed = deps.config.sync.disabled;
  // A scheduled run's first attempt respects the cooldown; a manual or replayed one was let
  // through by its own rules, and a retry belongs to a run already under way.
  const respectCooldown = attempt === 1 && message.trigger === "scheduled";
  const { leased, row } = killed
    ? { leased: false, row: undefined }
    : await leaseForSync(
        deps.db,
        message.connection_id,
        message.run_id,
        started,
        new Date(started.getTime() + SYNC_LEASE_MS),
        {
          notCoolingDown: respectCooldown,
        },
      );
  if (killed) return skipKilled(deps, message);
  // A deleted connection took its runs with it.
  if (!row) return ack("duplicate");
  observed.provider = row.provider;
  const skip = skipReason(deps, row, leased, respectCooldown);
  if (skip) {
    await deps.homes.fail(row.userId, message.run_id, { status: "skipped", error: skip }, []);
    return ack("skipped");
  }

  const cadence = cadenceOf(deps.config.sync, row.provider);
  const begun = await deps.homes.begin(row.userId, message.run_id, attempt, cadence.quota ?? undefined);
  if (begun.kind === "quota") {
    // Not a failure: the connection waits for its provider's next free call (scheduled there).
    const at = new Date(begun.retryAt);
    await updateUnderSyncLease(deps.db, row.id, message.run_id, {
      status: restingStatus(row),
      nextSyncAt: at,
      updatedAt: deps.now(),
    });
    deps.logger.info("sync deferred: quota spent", {
      run_id: message.run_id,
      connection_id: row.id,
      retry_at: at.toISOString(),
    });
    return ack("skipped");
  }
  if (begun.kind !== "started") {
    // A duplicate of a finished run, or a connection deleted meanwhile: give the lease back.
    await updateUnderSyncLease(deps.db, row.id, message.run_id, { status: restingStatus(row) });
    return ack(begun.kind === "gone" ? "skipped" : "duplicate");
  }
  const run = begun.run;

  try {
    observed.called = true;
    const snapshot = await fetchAnswer(deps, row, begun.knownAccounts, started, attempt === 1);
    const applied = await deps.homes.complete(
      row.userId,
      {
        runId: run.id,
        connectionId: row.id,
        provider: row.provider,
        answer: snapshot.accounts,
        fetchedAt: started.getTime(),
        attempt,
        ...(cadence.quota ? { spent: { units: unitsOf(row.provider, snapshot), policy: cadence.quota } } : {}),
      },
      deps.config.sync.pendingStaleMs,
    );
    const done = deps.now();
    if (applied.kind === "gone") {
      // Deleted (the connection, or the whole account) while we talked to the provider: the
      // home refused the write and the run went with the data. Nothing to record.
      deps.logger.info("sync dropped: deleted meanwhile", { run_id: run.id, connection_id: row.id });
      return ack("skipped");
    }
    if (applied.kind === "stale") {
      await updateUnderSyncLease(deps.db, row.id, run.id, { status: restingStatus(row) });
      return ack("failed");
    }
    const who = { userId: row.userId, provider: row.provider };
    // Connections a relink empties are retired below; their rows (sealed consent) are read first,
    // so the consent can be withdrawn at the provider once they are gone. Rare: a second link.
    const retired = (await Promise.all(applied.emptied.map((old) => findConnection(deps.db, old)))).filter(
      (r): r is ConnectionRow => r !== undefined && r.userId === row.userId,
    );
    await deps.db.batch([
      updateUnderSyncLease(
        deps.db,
        row.id,
        run.id,
        successPatch(done, nextAfterSuccess(done, deps.config.sync, deps.random, row.provider), warningsOf(snapshot)),
      ),
      // Readiness reports each provider's last hour of syncs from these counts.
      countOutcome(deps.db, `provider:${row.provider}`, done, null),
      // Reconciliation changes: the administrators' list of drifts, and the audit trail.
      ...applied.reconciliation.flatMap((r) => [
        r.status === "drift"
          ? upsertDrift(deps.db, {
              accountId: r.accountId,
              userId: row.userId,
              connectionId: row.id,
              provider: row.provider,
              currency: r.currency,
              difference: r.difference,
              since: new Date(r.since ?? done.getTime()),
              updatedAt: done,
            })
          : clearDrift(deps.db, r.accountId),
        connectionAudit(deps.db, jobMeta(deps), done, {
          action: r.status === "drift" ? "account.reconciliation_drift" : "account.reconciled",
          outcome: r.status === "drift" ? "failure" : "success",
          ...who,
          connectionId: row.id,
          details: { account_id: r.accountId, difference: r.difference, currency: r.currency, run_id: run.id },
        }),
      ]),
      // Connections a relink left without accounts: the home deleted their data; the directory retires them.
      ...applied.emptied.flatMap((old) => [
        deleteUserConnection(deps.db, row.userId, old),
        connectionAudit(deps.db, jobMeta(deps), done, {
          action: "connection.relinked",
          outcome: "success",
          ...who,
          connectionId: row.id,
          details: { replaced_connection_id: old, accounts_moved: applied.stats.accounts_relinked },
        }),
      ]),
    ]);
    for (const old of retired) deps.defer(revokeConsent(deps, old));
    observed.rowsWritten = applied.stats.rows_written;
    deps.logger.info("sync succeeded", { run_id: run.id, connection_id: row.id, attempt, ...applied.stats });
    return ack("succeeded");
  } catch (err) {
    const failure = classifyFailure(err);
    observed.status = providerStatusOf(err);
    deps.logger.warn("sync attempt failed", {
      run_id: run.id,
      connection_id: row.id,
      attempt,
      code: failure.code,
      kind: failure.kind,
      error: err instanceof Error ? err.message : String(err),
    });
    return recordFailure(deps, run.id, run.trigger, row, attempt, failure);
  }
}

/**
 * Quota units a snapshot spent: SimpleFIN counts requests; GoCardless's allowance is per account
 * and scope, and a sync calls each once, so one sync is one unit.
 */
function unitsOf(provider: string, snapshot: ProviderSnapshot): number {
  return provider.endsWith("simplefin") ? Math.max(1, snapshot.requests ?? 1) : 1;
}

/** The kill switch: the run is skipped without touching D1 (the home says whose it is). */
async function skipKilled(deps: SyncDeps, message: SyncMessage): Promise<AttemptResult> {
  const row = await findConnection(deps.db, message.connection_id);
  if (!row) return ack("duplicate");
  const error = { code: "sync_disabled", message: "Syncing is switched off (SYNC_DISABLED)." };
  await deps.homes.fail(row.userId, message.run_id, { status: "skipped", error }, []);
  return ack("skipped");
}

/** Records a failed attempt and says what the consumer should do with the message. */
async function recordFailure(
  deps: SyncDeps,
  runId: string,
  trigger: string,
  row: ConnectionRow,
  attempt: number,
  failure: SyncFailure,
): Promise<AttemptResult> {
  const now = deps.now();
  const config = deps.config.sync;
  const error = { code: failure.code, message: failure.message };
  // Readiness judges the provider by its own trouble: our outbound budget's refusals are none of
  // it, and a grant the person revoked (reauth) or a subscription they did not pay (payment) is
  // theirs, not the provider's; one user with many such connections must not degrade readiness.
  if (!failure.throttled && failure.kind !== "reauth" && failure.kind !== "payment") {
    await countOutcome(deps.db, `provider:${row.provider}`, now, failure.code).catch((err) =>
      deps.logger.warn("sync outcome not counted", { error: String(err) }),
    );
  }

  // The provider's own 429 past a short burst (a daily quota, a long Retry-After, or the last
  // attempt): a deferral, never a failure toward the cooldown or the dead letters.
  const rateLimited = failure.retryAfterSeconds !== null;
  if (
    failure.kind === "defer" ||
    (failure.kind === "retry" && failure.rateLimited && attempt >= config.retry.maxAttempts)
  ) {
    const until = new Date(now.getTime() + (failure.retryAfterSeconds ?? DEFAULT_DEFER_SECONDS) * 1000);
    await deps.homes.fail(row.userId, runId, { status: "skipped", error }, [
      liveEvent("sync.deferred", { connection_id: row.id, sync_id: runId, error, retry_at: until.toISOString() }, now),
    ]);
    const patch = failure.throttled ? restPatch(row, now, until) : deferredPatch(row, failure, now, until);
    await updateUnderSyncLease(deps.db, row.id, runId, patch);
    return ack("deferred");
  }

  if (failure.kind === "retry") {
    // A Retry-After (429, or a refresh still in flight) is honoured as given; otherwise backoff.
    if (attempt < config.retry.maxAttempts) {
      const delaySeconds = rateLimited
        ? retryAfterDelay(failure.retryAfterSeconds as number)
        : backoffSeconds(attempt, config.retry, deps.random);
      const nextAttemptAt = now.getTime() + delaySeconds * 1000;
      await deps.homes.fail(row.userId, runId, { status: "retrying", nextAttemptAt, error }, []);
      // Our own budget's wait is not the connection's trouble: its record stays as it was.
      const patch = failure.throttled
        ? restPatch(row, now, null)
        : retryPatch(row, failure, now, delaySeconds, rateLimited);
      await updateUnderSyncLease(deps.db, row.id, runId, patch);
      return { action: "retry", delaySeconds, error: failure };
    }
    // Last attempt: hand the run to the dead-letter queue, whose consumer records it, marks it
    // `dead_lettered` and puts the connection in `error` (./dead-letters.ts). The run stays
    // unfinished until then, so a redelivery (the forward failed) tries once more.
    await deps.homes.fail(row.userId, runId, { status: "retrying", nextAttemptAt: null, error }, []);
    await updateUnderSyncLease(deps.db, row.id, runId, retryPatch(row, failure, now, 0, false));
    return { action: "dead_letter", error: failure };
  }

  const who = { userId: row.userId, connectionId: row.id, provider: row.provider };
  const events = [
    liveEvent("sync.failed", { connection_id: row.id, sync_id: runId, error }, now),
    ...(failure.kind === "reauth" ? [liveEvent("connection.reauth_required", { connection_id: row.id }, now)] : []),
  ];
  await deps.homes.fail(row.userId, runId, { status: "failed", error }, events);
  await deps.db.batch([
    updateUnderSyncLease(deps.db, row.id, runId, failedPatch(row, failure, now, config)),
    ...(failure.kind === "reauth" && !failure.audited
      ? [
          connectionAudit(deps.db, jobMeta(deps), now, {
            action: "connection.reauth_required",
            outcome: "failure",
            ...who,
            details: { reason: "provider_refused_data_call", run_id: runId },
          }),
        ]
      : []),
    connectionAudit(deps.db, jobMeta(deps), now, {
      action: "sync.failed",
      outcome: "failure",
      ...who,
      details: { run_id: runId, trigger, attempt, code: failure.code },
    }),
  ]);
  return ack("failed");
}

/** The provider's HTTP status behind a failure, if a provider answered one. */
function providerStatusOf(err: unknown): number | null {
  const cause = err instanceof ProviderError ? err : err instanceof Error ? err.cause : null;
  if (cause instanceof ProviderError) return cause.status ?? (cause.kind === "rate_limited" ? 429 : null);
  return null;
}
