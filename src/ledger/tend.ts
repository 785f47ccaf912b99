/**
 * The per-user half of reconciliation, run by the user's home object on its alarm: runs
 * recorded but never picked up are sent again (the outbox), runs unfinished past their horizon
 * are failed `run_lost`, pending transactions that never posted are reported once in the audit
 * trail, old finished runs are forgotten. Idempotent, as alarms are at-least-once; a report is
 * marked done only after its audit row is written.
 */
import type { Config } from "../config";
import { insertAudit } from "../db/audit";
import { batchAll } from "../db/batch";
import type { Db } from "../db/client";
import type { Logger } from "../logger";
import { connectionAudit } from "../services/connections/audit";
import { runHorizon } from "../services/sync/timing";
import { messageOf, RESEND_AFTER_MS, type Runs } from "./runs";
import type { Ledger } from "./store";

/** Finished sync runs are kept this long for `GET /connections/{id}/syncs` and support. */
const RUN_RETENTION_MS = 90 * 86_400_000;

export interface TendDeps {
  ledger: Ledger;
  runs: Runs;
  /** The user whose home this is, for the audit rows (null if it was never recorded). */
  userId: string | null;
  config: Config;
  db: Db;
  queue: Queue;
  log: Logger;
}

export async function tendLedger(deps: TendDeps, now: number) {
  const { ledger, runs, userId, db } = deps;
  const at = new Date(now);
  const horizonMs = runHorizon(at, deps.config.sync).getTime() - now;
  const lost = runs.lost(now - horizonMs);
  for (const run of lost) {
    runs.finish(run.id, {
      status: "failed",
      finished_at: now,
      error_code: "run_lost",
      error_message: "The run never finished (its message or consumer was lost); the next scheduled sync covers it.",
    });
  }
  runs.purge(now - RUN_RETENTION_MS);

  const unposted = ledger.unpostedPending(now - deps.config.sync.pendingStaleMs);
  const byConnection = Map.groupBy(unposted, (p) => p.connectionId);
  const audits = [...byConnection].map(([connectionId, rows]) =>
    connectionAudit(db, null, at, {
      action: "sync.pending_unposted",
      outcome: "failure",
      userId,
      connectionId,
      details: {
        count: rows.length,
        transaction_ids: rows.slice(0, 20).map((r) => r.id),
        oldest_date: rows[0]?.date.toISOString() ?? null,
      },
    }),
  );
  if (lost.length > 0) {
    audits.push(
      insertAudit(db, {
        occurredAt: at,
        action: "sync.reconciled",
        outcome: "success",
        userId,
        details: { lost_runs: lost.length, run_ids: lost.slice(0, 20).map((r) => r.id) },
      }),
    );
  }
  if (audits.length > 0) {
    await batchAll(db, audits);
    ledger.markReported(
      unposted.map((p) => p.id),
      now,
    );
  }

  for (const run of runs.unsent(now - RESEND_AFTER_MS)) {
    try {
      await deps.queue.send(messageOf(run), { contentType: "json" });
      runs.update(run.id, { sent_at: now });
      deps.log.warn("sync run sent again (never picked up)", { run_id: run.id, connection_id: run.connectionId });
    } catch (err) {
      deps.log.error("sync run resend failed; trying at the next alarm", { run_id: run.id, error: String(err) });
    }
  }
}
