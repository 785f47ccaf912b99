/**
 * What a user's home found on its alarm (src/home/ledger/tend.ts), written to the directory's
 * audit trail: the home writes no D1 itself. Idempotent enough for at-least-once delivery: a
 * report redelivered writes its rows again, which the trail tolerates (they describe the same
 * finding at the same time).
 */

import { insertAudit } from "../../db/audit";
import { batchAll } from "../../db/batch";
import type { HomeReportMessage } from "../../home/messages";
import { connectionAudit } from "../connections/audit";
import { jobMeta } from "../context";
import type { SyncDeps } from "./deps";

export async function recordHomeReport(deps: Pick<SyncDeps, "db" | "trace">, report: HomeReportMessage) {
  const at = new Date(report.at);
  const userId = report.user_id;
  const audits = report.unposted.map((u) =>
    connectionAudit(deps.db, jobMeta(deps), at, {
      action: "sync.pending_unposted",
      outcome: "failure",
      userId,
      connectionId: u.connection_id,
      details: { count: u.count, transaction_ids: u.transaction_ids, oldest_date: u.oldest_date },
    }),
  );
  if (report.lost_runs.length > 0) {
    audits.push(
      insertAudit(deps.db, {
        occurredAt: at,
        action: "sync.reconciled",
        outcome: "success",
        userId,
        details: { lost_runs: report.lost_runs.length, run_ids: report.lost_runs.slice(0, 20).map((r) => r.id) },
      }),
    );
  }
  if (audits.length > 0) await batchAll(deps.db, audits);
  return { unposted: report.unposted.length, lost_runs: report.lost_runs.length };
}
