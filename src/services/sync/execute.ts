/**
 * One attempt of one sync run (what the queue consumer calls per message). The run holds the
 * connection's sync lease in D1 while it talks to the provider, so two syncs of one connection
 * never call the provider together, whatever queued them. The answer is then handed whole to
 * the user's home object, which plans and applies it in one transaction (src/gate/gate.ts
 * `applySync`). A redelivered message for a finished run is acknowledged and ignored.
 */
import { acquireSyncLease, updateUnderSyncLease } from "../../db/connection-sync";
import { type ConnectionRow, findConnection } from "../../db/connections";
import { liveEvent } from "../../gate/events";
import { FINISHED, type SyncRunRow } from "../../ledger/rows";
import { connectionAudit } from "../connections/audit";
import { retireRelinked } from "../connections/relink";
import type { SyncDeps } from "./deps";
import { classifyFailure, type SyncFailure } from "./failures";
import type { SyncMessage } from "./messages";
import { failedPatch, retryPatch, successPatch } from "./outcome";
import { fetchAnswer } from "./snapshot";
import { backoffSeconds, nextAfterSuccess, retryAfterDelay, SYNC_LEASE_MS } from "./timing";

/** What the consumer does with the message. */
export type AttemptResult =
  | { action: "ack"; outcome: "succeeded" | "failed" | "skipped" | "duplicate" }
  | { action: "retry"; delaySeconds: number; error: SyncFailure }
  | { action: "dead_letter"; error: Pick<SyncFailure, "code" | "message"> };

const ack = (outcome: "succeeded" | "failed" | "skipped" | "duplicate"): AttemptResult => ({ action: "ack", outcome });

/** Finishes a run that will not sync (kill switch, connection not ready, another run busy). */
async function skip(deps: SyncDeps, row: ConnectionRow, run: SyncRunRow, code: string, message: string) {
  await deps.gate.home(row.userId).finishRun(run.id, { status: "skipped", error_code: code, error_message: message });
  return ack("skipped");
}

/** Runs attempt `attempt` (1-based, Queues' `message.attempts`) of the message's run. */
export async function runSyncAttempt(deps: SyncDeps, message: SyncMessage, attempt: number): Promise<AttemptResult> {
  const row = await findConnection(deps.db, message.connection_id);
  // A deleted connection took its runs with it.
  if (!row) return ack("duplicate");
  const home = deps.gate.home(row.userId);
  const run = await home.startRun(message.run_id, attempt);
  if (!run || FINISHED.includes(run.status)) return ack("duplicate");
  if (deps.config.sync.disabled) {
    return skip(deps, row, run, "sync_disabled", "Syncing is switched off (SYNC_DISABLED).");
  }
  if (row.status === "reauth_required") {
    return skip(deps, row, run, "reauth_required", "The connection needs reauthorization before it can sync.");
  }
  if (!row.accessTokenEnc || !["active", "error", "syncing"].includes(row.status)) {
    return skip(deps, row, run, "connection_not_ready", "The connection is not authorized yet.");
  }
  const started = deps.now();
  if (attempt === 1 && run.trigger === "scheduled" && row.cooldownUntil && row.cooldownUntil > started) {
    return skip(deps, row, run, "cooldown", "The connection is cooling down after provider trouble.");
  }
  const lease = await acquireSyncLease(deps.db, row.id, run.id, started, new Date(started.getTime() + SYNC_LEASE_MS));
  if (!lease) return skip(deps, row, run, "sync_in_progress", "Another sync of this connection was running.");
  const event = { connection_id: row.id, sync_id: run.id, trigger: run.trigger, attempt };
  await deps.gate.publish(row.userId, liveEvent("sync.started", event, started));

  try {
    const { knownAccounts } = await home.syncContext(row.id);
    const answer = await fetchAnswer(deps, row, knownAccounts, started, attempt === 1);
    const applied = await home.applySync(row.userId, row.id, row.provider, answer, started.getTime());
    const done = deps.now();
    if (applied.gone) {
      // Deleted (the connection, or the whole account) while we talked to the provider: the
      // home refused the write and the run went with the data. Nothing to record.
      deps.logger.info("sync dropped: deleted meanwhile", { run_id: run.id, connection_id: row.id });
      return ack("skipped");
    }
    if (applied.stale) {
      // A newer snapshot was applied meanwhile (this run outlived its lease): it decides the data.
      await home.finishRun(run.id, {
        status: "failed",
        error_code: "lease_lost",
        error_message: "The sync ran past its lease and a newer sync's data was kept.",
      });
      return ack("failed");
    }
    const stats = {
      ...applied.counts,
      accounts_relinked: applied.relinked.moved,
      rows_written: applied.rowsWritten,
      duration_ms: done.getTime() - started.getTime(),
    };
    await retireRelinked(deps, row, applied.relinked);
    await updateUnderSyncLease(
      deps.db,
      row.id,
      run.id,
      successPatch(done, nextAfterSuccess(done, deps.config.sync, deps.random)),
    );
    await home.finishRun(run.id, {
      status: "succeeded",
      stats: JSON.stringify(stats),
      error_code: null,
      error_message: null,
    });
    deps.logger.info("sync succeeded", { run_id: run.id, connection_id: row.id, attempt, ...stats });
    await deps.gate.publish(row.userId, liveEvent("sync.succeeded", { ...event, stats }, done));
    return ack("succeeded");
  } catch (err) {
    const failure = classifyFailure(err);
    deps.logger.warn("sync attempt failed", {
      run_id: run.id,
      connection_id: row.id,
      attempt,
      code: failure.code,
      kind: failure.kind,
      error: err instanceof Error ? err.message : String(err),
    });
    return recordFailure(deps, run, row, attempt, failure);
  }
}

/** Records a failed attempt and says what the consumer should do with the message. */
async function recordFailure(
  deps: SyncDeps,
  run: SyncRunRow,
  row: ConnectionRow,
  attempt: number,
  failure: SyncFailure,
): Promise<AttemptResult> {
  const now = deps.now();
  const config = deps.config.sync;
  const home = deps.gate.home(row.userId);
  const runError = { error_code: failure.code, error_message: failure.message };

  if (failure.kind === "retry") {
    // A Retry-After (429, or a refresh still in flight) is honoured as given; otherwise backoff.
    const rateLimited = failure.retryAfterSeconds !== null;
    if (attempt < config.retry.maxAttempts) {
      const delaySeconds = rateLimited
        ? retryAfterDelay(failure.retryAfterSeconds as number)
        : backoffSeconds(attempt, config.retry, deps.random);
      await updateUnderSyncLease(deps.db, row.id, run.id, retryPatch(row, failure, now, delaySeconds, rateLimited));
      await home.updateRun(run.id, {
        status: "retrying",
        next_attempt_at: now.getTime() + delaySeconds * 1000,
        ...runError,
      });
      return { action: "retry", delaySeconds, error: failure };
    }
    // Last attempt: hand the run to the dead-letter queue, whose consumer records it, marks it
    // `dead_lettered` and puts the connection in `error` (./dead-letters.ts). The run stays
    // unfinished until then, so a redelivery (the forward failed) tries once more.
    await updateUnderSyncLease(deps.db, row.id, run.id, retryPatch(row, failure, now, 0, false));
    await home.updateRun(run.id, { status: "retrying", ...runError });
    return { action: "dead_letter", error: failure };
  }

  const who = { userId: row.userId, connectionId: row.id, provider: row.provider };
  const audits = [];
  if (failure.kind === "reauth" && !failure.audited) {
    audits.push(
      connectionAudit(deps.db, null, now, {
        action: "connection.reauth_required",
        outcome: "failure",
        ...who,
        details: { reason: "provider_refused_data_call", run_id: run.id },
      }),
    );
  }
  audits.push(
    connectionAudit(deps.db, null, now, {
      action: "sync.failed",
      outcome: "failure",
      ...who,
      details: { run_id: run.id, trigger: run.trigger, attempt, code: failure.code },
    }),
  );
  await deps.db.batch([
    updateUnderSyncLease(deps.db, row.id, run.id, failedPatch(row, failure, now, config)),
    ...audits,
  ]);
  await home.finishRun(run.id, { status: "failed", ...runError });
  const data = { connection_id: row.id, sync_id: run.id, error: { code: failure.code, message: failure.message } };
  await deps.gate.publish(row.userId, liveEvent("sync.failed", data, now));
  if (failure.kind === "reauth") {
    await deps.gate.publish(row.userId, liveEvent("connection.reauth_required", { connection_id: row.id }, now));
  }
  return ack("failed");
}
