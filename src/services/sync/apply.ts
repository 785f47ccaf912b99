/**
 * Writes a plan in ONE D1 batch (one transaction): a run that fails midway, or whose lease was
 * taken over, leaves exactly what was there before. Every statement carries the lease guard.
 * Order matters: accounts before the holdings and transactions that reference them, tombstones
 * before the rows they replace, the feed counter last (src/db/sync-write.ts).
 */
import { deleteHoldings, markAccountsMissing, upsertAccounts, upsertHoldings } from "../../db/accounts";
import type { Db } from "../../db/client";
import { jsonChunks } from "../../db/json-rows";
import { type RawStatement, runRawBatch } from "../../db/raw-batch";
import { advanceFeed, type LeaseHolder } from "../../db/sync-write";
import { removeTransactions, upsertTransactions } from "../../db/transactions";
import type { SyncPlan } from "./plan";

/** Applies the plan; returns D1's count of rows written (index entries included), 0 when nothing changed. */
export async function applyPlan(db: Db, lease: LeaseHolder, userId: string, now: Date, plan: SyncPlan) {
  const statements: RawStatement[] = [];
  for (const chunk of jsonChunks(plan.accounts)) statements.push(upsertAccounts(lease, userId, now, chunk));
  if (plan.missingAccountIds.length > 0) statements.push(markAccountsMissing(lease, plan.missingAccountIds, now));
  if (plan.removedHoldingIds.length > 0) statements.push(deleteHoldings(lease, plan.removedHoldingIds));
  for (const chunk of jsonChunks(plan.holdings)) statements.push(upsertHoldings(lease, userId, now, chunk));

  // Feed numbers: upserted rows take 1..n, tombstones n+1..n+m (offsets into one shared base).
  for (const chunk of jsonChunks(plan.transactions)) {
    statements.push(upsertTransactions(lease, userId, now, chunk, chunk.offset));
  }
  let used = plan.transactions.length;
  const removals = plan.removedTransactions;
  for (let i = 0; i < removals.length; i += 500) {
    statements.push(...removeTransactions(lease, userId, now, removals.slice(i, i + 500), used));
    used += Math.min(500, removals.length - i);
  }
  if (used > 0) statements.push(advanceFeed(lease, used));
  if (statements.length === 0) return 0;

  const results = await runRawBatch(db, statements);
  return results.reduce((sum, r) => sum + (r.meta?.rows_written ?? 0), 0);
}
