/**
 * One attempt of one sync run (what the queue consumer calls per message). The run holds the
 * connection's sync lease for the whole attempt, so two syncs of one connection never overlap,
 * whatever queued them; a redelivered message for a finished run is acknowledged and ignored.
 */
import { newId } from "../../crypto/random";
import { listConnectionAccounts, listConnectionHoldings } from "../../db/accounts";
import { acquireSyncLease, updateUnderSyncLease } from "../../db/connection-sync";
import { type ConnectionRow, findConnection } from "../../db/connections";
import { FINISHED, findRun, finishRun, type SyncRunRow, updateRun } from "../../db/sync-runs";
import { storedForWindow, type TransactionRow } from "../../db/transactions";
import { liveEvent } from "../../gate/events";
import { connectionAudit } from "../connections/audit";
import { applyPlan } from "./apply";
import type { SyncDeps } from "./deps";
import { classifyFailure, type SyncFailure } from "./failures";
import type { SyncMessage } from "./messages";
import { failedPatch, retryPatch, successPatch } from "./outcome";
import { planSync, type StoredState } from "./plan";
import { fetchAnswer, windowStart } from "./snapshot";
import { backoffSeconds, nextAfterSuccess, retryAfterDelay, SYNC_LEASE_MS } from "./timing";

/** What the consumer does with the message. */
export type AttemptResult =
  | { action: "ack"; outcome: "succeeded" | "failed" | "skipped" | "duplicate" }
  | { action: "retry"; delaySeconds: number; error: SyncFailure }
  | { action: "dead_letter"; error: Pick<SyncFailure, "code" | "message"> };

const ack = (outcome: "succeeded" | "failed" | "skipped" | "duplicate"): AttemptResult => ({ action: "ack", outcome });

/** Finishes a run that will not sync (kill switch, connection not ready, another run busy). */
async function skip(deps: SyncDeps, run: SyncRunRow, code: string, message: string) {
  await finishRun(deps.db, run.id, {
    status: "skipped",
    finishedAt: deps.now(),
    errorCode: code,
    errorMessage: message,
  });
  return ack("skipped");
}

async function loadStored(deps: SyncDeps, row: ConnectionRow, now: Date): Promise<StoredState> {
  const [accounts, holdings] = await Promise.all([
    listConnectionAccounts(deps.db, row.id),
    listConnectionHoldings(deps.db, row.id),
  ]);
  const transactions = new Map<string, TransactionRow[]>();
  for (const a of accounts) {
    // A day of slack below the window: rows dated just outside it are compared, not re-inserted.
    const since = new Date(windowStart(true, row.lastSyncedAt, now, deps).getTime() - 86_400_000);
    transactions.set(a.id, await storedForWindow(deps.db, a.id, since));
  }
  return { accounts, holdings, transactions };
}

/** Runs attempt `attempt` (1-based, Queues' `message.attempts`) of the message's run. */
export async function runSyncAttempt(deps: SyncDeps, message: SyncMessage, attempt: number): Promise<AttemptResult> {
  const run = await findRun(deps.db, message.run_id);
  if (!run || FINISHED.includes(run.status)) return ack("duplicate");
  if (deps.config.sync.disabled) return skip(deps, run, "sync_disabled", "Syncing is switched off (SYNC_DISABLED).");
  const row = await findConnection(deps.db, run.connectionId);
  if (!row) return ack("duplicate");
  if (row.status === "reauth_required") {
    return skip(deps, run, "reauth_required", "The connection needs reauthorization before it can sync.");
  }
  if (!row.accessTokenEnc || !["active", "error", "syncing"].includes(row.status)) {
    return skip(deps, run, "connection_not_ready", "The connection is not authorized yet.");
  }
  const started = deps.now();
  if (attempt === 1 && run.trigger === "scheduled" && row.cooldownUntil && row.cooldownUntil > started) {
    return skip(deps, run, "cooldown", "The connection is cooling down after provider trouble.");
  }
  const lease = await acquireSyncLease(deps.db, row.id, run.id, started, new Date(started.getTime() + SYNC_LEASE_MS));
  if (!lease) return skip(deps, run, "sync_in_progress", "Another sync of this connection was running.");
  await updateRun(deps.db, run.id, {
    status: "running",
    attempts: attempt,
    startedAt: run.startedAt ?? started,
    nextAttemptAt: null,
  });
  const holder = { connectionId: row.id, owner: run.id };
  const event = { connection_id: row.id, sync_id: run.id, trigger: run.trigger, attempt };
  await deps.gate.publish(row.userId, liveEvent("sync.started", event, started));

  try {
    const stored = await loadStored(deps, row, started);
    const answer = await fetchAnswer(deps, row, stored.accounts, started, attempt === 1);
    const plan = planSync(stored, answer, newId);
    const rowsWritten = await applyPlan(deps.db, holder, row.userId, deps.now(), plan);
    const done = deps.now();
    const stats = { ...plan.counts, rows_written: rowsWritten, duration_ms: done.getTime() - started.getTime() };
    const kept = await updateUnderSyncLease(
      deps.db,
      row.id,
      run.id,
      successPatch(done, nextAfterSuccess(done, deps.config.sync, deps.random)),
    );
    if (kept.length === 0) {
      // The lease outlived its term and another run took it (the guard kept our writes out
      // from then on); that run's own comparison decides the data.
      await finishRun(deps.db, run.id, {
        status: "failed",
        finishedAt: done,
        errorCode: "lease_lost",
        errorMessage: "The sync ran past its lease and another run took over.",
      });
      return ack("failed");
    }
    await finishRun(deps.db, run.id, {
      status: "succeeded",
      finishedAt: done,
      stats,
      errorCode: null,
      errorMessage: null,
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
  const runError = { errorCode: failure.code, errorMessage: failure.message };

  if (failure.kind === "retry") {
    // A Retry-After (429, or a refresh still in flight) is honoured as given; otherwise backoff.
    const rateLimited = failure.retryAfterSeconds !== null;
    if (attempt < config.retry.maxAttempts) {
      const delaySeconds = rateLimited
        ? retryAfterDelay(failure.retryAfterSeconds as number)
        : backoffSeconds(attempt, config.retry, deps.random);
      await deps.db.batch([
        updateUnderSyncLease(deps.db, row.id, run.id, retryPatch(row, failure, now, delaySeconds, rateLimited)),
        updateRun(deps.db, run.id, {
          status: "retrying",
          nextAttemptAt: new Date(now.getTime() + delaySeconds * 1000),
          ...runError,
        }),
      ]);
      return { action: "retry", delaySeconds, error: failure };
    }
    // Last attempt: hand the run to the dead-letter queue, whose consumer records it, marks it
    // `dead_lettered` and puts the connection in `error` (./dead-letters.ts). The run stays
    // unfinished until then, so a redelivery (the forward failed) tries once more.
    await deps.db.batch([
      updateUnderSyncLease(deps.db, row.id, run.id, retryPatch(row, failure, now, 0, false)),
      updateRun(deps.db, run.id, { status: "retrying", ...runError }),
    ]);
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
    finishRun(deps.db, run.id, { status: "failed", finishedAt: now, ...runError }),
    ...audits,
  ]);
  const data = { connection_id: row.id, sync_id: run.id, error: { code: failure.code, message: failure.message } };
  await deps.gate.publish(row.userId, liveEvent("sync.failed", data, now));
  if (failure.kind === "reauth") {
    await deps.gate.publish(row.userId, liveEvent("connection.reauth_required", { connection_id: row.id }, now));
  }
  return ack("failed");
}
