/**
 * Reconciliation, the cross-user half (hourly, over D1's directory): live connections without a
 * successful sync for SYNC_STALE_HOURS are reported (`sync.connection_stale`, once until their
 * next success), and sync leases that outlived their term are released. The per-user half runs
 * in each user's home object (src/home/home.ts `alarm`): pending transactions that never posted
 * (`sync.pending_unposted`), runs never picked up (sent again) or lost past their horizon.
 */
import { insertAudit } from "../../db/audit";
import { batchAll } from "../../db/batch";
import type { Db } from "../../db/client";
import { markStaleReported, releaseExpiredSyncLeases, staleConnections } from "../../db/connection-sync";
import { connectionAudit } from "../connections/audit";
import type { SyncConfig } from "./config";

/** Rows per pass; the rest waits for the next hour. */
const BATCH = 100;

export interface ReconcileReport {
  stale_connections: number;
  released_leases: number;
}

export async function reconcileSync(db: Db, config: SyncConfig, now: Date): Promise<ReconcileReport> {
  const report: ReconcileReport = { stale_connections: 0, released_leases: 0 };
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
  report.released_leases = (await releaseExpiredSyncLeases(db, now)).length;
  if (Object.values(report).some((n) => n > 0)) {
    await insertAudit(db, { occurredAt: now, action: "sync.reconciled", outcome: "success", details: { ...report } });
  }
  return report;
}
