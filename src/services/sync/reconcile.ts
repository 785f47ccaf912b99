/**
 * Reconciliation (hourly): finds what the sync engine should have fixed but did not, repairs
 * what is safe to repair, and reports the rest in the audit trail:
 * - live connections without a successful sync for SYNC_STALE_HOURS (`sync.connection_stale`);
 * - pending transactions older than SYNC_PENDING_STALE_DAYS that never posted
 *   (`sync.pending_unposted`, per connection);
 * - runs unfinished past their horizon (a lost message or a dead consumer) are failed
 *   `run_lost`, and expired sync leases are released.
 * Each finding is reported once (a marker is set in the same batch as its audit row).
 */
import { insertAudit } from "../../db/audit";
import { batchAll } from "../../db/batch";
import type { Db } from "../../db/client";
import { markStaleReported, releaseExpiredSyncLeases, staleConnections } from "../../db/connection-sync";
import { finishRun, lostRuns } from "../../db/sync-runs";
import { markPendingReported, unpostedPending } from "../../db/transactions";
import { connectionAudit } from "../connections/audit";
import type { SyncConfig } from "./config";
import { runHorizon } from "./timing";

/** Rows per pass; the rest waits for the next hour. */
const BATCH = 100;

export interface ReconcileReport {
  stale_connections: number;
  unposted_pending: number;
  lost_runs: number;
  released_leases: number;
}

export async function reconcileSync(db: Db, config: SyncConfig, now: Date): Promise<ReconcileReport> {
  const report: ReconcileReport = { stale_connections: 0, unposted_pending: 0, lost_runs: 0, released_leases: 0 };

  const stale = await staleConnections(db, new Date(now.getTime() - config.staleMs), BATCH);
  await batchAll(
    db,
    stale.flatMap((row) => [
      markStaleReported(db, row.id, now),
      connectionAudit(db, null, now, {
        action: "sync.connection_stale",
        outcome: "failure",
        userId: row.userId,
        connectionId: row.id,
        provider: row.provider,
        details: {
          status: row.status,
          last_synced_at: row.lastSyncedAt?.toISOString() ?? null,
          last_error_code: row.lastErrorCode,
        },
      }),
    ]),
  );
  report.stale_connections = stale.length;

  const pending = await unpostedPending(db, new Date(now.getTime() - config.pendingStaleMs), BATCH * 5);
  const byConnection = new Map<string, typeof pending>();
  for (const p of pending) byConnection.set(p.connectionId, [...(byConnection.get(p.connectionId) ?? []), p]);
  await batchAll(db, [
    ...(pending.length > 0
      ? [
          markPendingReported(
            db,
            pending.map((p) => p.id),
            now,
          ),
        ]
      : []),
    ...[...byConnection.entries()].map(([connectionId, rows]) =>
      connectionAudit(db, null, now, {
        action: "sync.pending_unposted",
        outcome: "failure",
        userId: rows[0]?.userId ?? null,
        connectionId,
        details: {
          count: rows.length,
          transaction_ids: rows.slice(0, 20).map((r) => r.id),
          oldest_date: rows[0]?.date.toISOString() ?? null,
        },
      }),
    ),
  ]);
  report.unposted_pending = pending.length;

  // A run still unfinished a whole horizon after it was queued will never finish by itself.
  const horizonMs = runHorizon(now, config).getTime() - now.getTime();
  const lost = await lostRuns(db, new Date(now.getTime() - horizonMs), BATCH);
  await batchAll(
    db,
    lost.map((run) =>
      finishRun(db, run.id, {
        status: "failed",
        finishedAt: now,
        errorCode: "run_lost",
        errorMessage: "The run never finished (its message or consumer was lost); the next scheduled sync covers it.",
      }),
    ),
  );
  report.lost_runs = lost.length;
  report.released_leases = (await releaseExpiredSyncLeases(db, now)).length;

  if (Object.values(report).some((n) => n > 0)) {
    await insertAudit(db, { occurredAt: now, action: "sync.reconciled", outcome: "success", details: { ...report } });
  }
  return report;
}
