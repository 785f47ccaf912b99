/** The administrators' list of accounts in reconciliation drift (the accounts live in each home). */
import { and, asc, eq, gt, or } from "drizzle-orm";
import type { Db } from "./client";
import { reconciliationDrifts } from "./schema";

export type DriftRow = typeof reconciliationDrifts.$inferSelect;

/** Records (or updates) an account's drift. */
export const upsertDrift = (db: Db, row: DriftRow) =>
  db
    .insert(reconciliationDrifts)
    .values(row)
    .onConflictDoUpdate({
      target: reconciliationDrifts.accountId,
      set: { difference: row.difference, since: row.since, updatedAt: row.updatedAt, connectionId: row.connectionId },
    });

/** The account agrees again. */
export const clearDrift = (db: Db, accountId: string) =>
  db.delete(reconciliationDrifts).where(eq(reconciliationDrifts.accountId, accountId));

/** Oldest drift first, keyset on (since, account id). */
export const listDrifts = (db: Db, limit: number, after?: { at: Date; id: string }) =>
  db
    .select()
    .from(reconciliationDrifts)
    .where(
      after
        ? or(
            gt(reconciliationDrifts.since, after.at),
            and(eq(reconciliationDrifts.since, after.at), gt(reconciliationDrifts.accountId, after.id)),
          )
        : undefined,
    )
    .orderBy(asc(reconciliationDrifts.since), asc(reconciliationDrifts.accountId))
    .limit(limit);
