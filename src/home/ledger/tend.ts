/**
 * The per-user half of reconciliation, run by the user's home object on its alarm: runs
 * recorded but never picked up are sent again (the outbox), runs unfinished past their deadline
 * are failed `run_lost`, pending transactions that never posted are found once, old finished
 * runs are forgotten. The home writes no D1: what the audit trail must record travels as one
 * report message, and a report is marked done only once that message is sent. Idempotent, as
 * alarms are at-least-once.
 */
import type { HomeReportMessage } from "../messages";
import { messageOf, RESEND_AFTER_MS, type Runs } from "./run-store";
import type { Ledger } from "./store";

/** Finished sync runs are kept this long for `GET /connections/{id}/syncs` and support. */
const RUN_RETENTION_MS = 90 * 86_400_000;
/** Pending transactions older than this are reported until a sync says otherwise (KV): SYNC_PENDING_STALE_DAYS's default. */
export const DEFAULT_PENDING_STALE_MS = 10 * 86_400_000;

export interface TendDeps {
  ledger: Ledger;
  runs: Runs;
  userId: string;
  /** The sync queue: resent runs and the report go there. */
  queue: Queue;
  pendingStaleMs: number;
  warn: (message: string, fields: Record<string, unknown>) => void;
}

export async function tendLedger(deps: TendDeps, now: number) {
  const { ledger, runs } = deps;
  const lost = runs.lost(now);
  for (const run of lost) {
    runs.finish(run.id, {
      status: "failed",
      finished_at: now,
      error_code: "run_lost",
      error_message: "The run never finished (its message or consumer was lost); the next scheduled sync covers it.",
    });
  }
  runs.purge(now - RUN_RETENTION_MS);

  const unposted = ledger.unpostedPending(now - deps.pendingStaleMs);
  if (lost.length > 0 || unposted.length > 0) {
    const report: HomeReportMessage = {
      v: 1,
      kind: "home_report",
      user_id: deps.userId,
      at: now,
      lost_runs: lost.slice(0, 100).map((r) => ({ id: r.id, connection_id: r.connectionId })),
      unposted: [...Map.groupBy(unposted, (p) => p.connectionId)].slice(0, 100).map(([connectionId, rows]) => ({
        connection_id: connectionId,
        count: rows.length,
        transaction_ids: rows.slice(0, 20).map((r) => r.id),
        oldest_date: rows[0]?.date.toISOString() ?? null,
      })),
    };
    try {
      await deps.queue.send(report, { contentType: "json" });
      ledger.markReported(
        unposted.map((p) => p.id),
        now,
      );
    } catch (err) {
      // Not marked: the next alarm finds the same rows and reports them then.
      deps.warn("home report not sent; trying at the next alarm", { error: String(err) });
    }
  }

  for (const run of runs.unsent(now - RESEND_AFTER_MS)) {
    try {
      await deps.queue.send(messageOf(run), { contentType: "json" });
      runs.update(run.id, { sent_at: now });
      deps.warn("sync run sent again (never picked up)", { run_id: run.id, connection_id: run.connectionId });
    } catch (err) {
      deps.warn("sync run resend failed; trying at the next alarm", { run_id: run.id, error: String(err) });
    }
  }
}
