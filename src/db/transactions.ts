/** Transactions: the sync's reads and bulk writes, the change feed, and the data API's reads. */
import { and, asc, desc, eq, gt, gte, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import type { JsonChunk } from "./json-rows";
import { raw } from "./raw-batch";
import { accounts, transactionRemovals, transactions } from "./schema";
import { advanceFeedBy, feedBase, jsonField, type LeaseHolder, leaseHeld } from "./sync-write";

export type TransactionRow = typeof transactions.$inferSelect;
export type RemovalRow = typeof transactionRemovals.$inferSelect;

/**
 * What the sync compares an account's answer with: rows dated inside the fetched window, and
 * every pending row (a pending item may post under a new id and must be found to be replaced).
 */
export const storedForWindow = (db: Db, accountId: string, since: Date) =>
  db
    .select()
    .from(transactions)
    .where(
      and(eq(transactions.accountId, accountId), or(gte(transactions.date, since), eq(transactions.status, "pending"))),
    );

/** One row of a transaction upsert chunk (JSON keys = columns). */
export interface TransactionJsonRow {
  id: string;
  account_id: string;
  provider_transaction_id: string;
  status: "pending" | "posted";
  type: string;
  description: string;
  amount: string;
  currency: string;
  symbol: string | null;
  quantity: string | null;
  price: string | null;
  date: number;
  pending_transaction_id: string | null;
}

/**
 * Upserts a chunk keyed by (account, provider transaction id). Each row takes feed number
 * base + `seqOffset` + its index + 1: new rows as created and changed, updated rows as changed.
 * A link to a replaced pending row, once made, is kept.
 */
export const upsertTransactions = (
  lease: LeaseHolder,
  userId: string,
  now: Date,
  chunk: JsonChunk,
  seqOffset: number,
) =>
  raw(sql`
    INSERT INTO transactions (id, user_id, account_id, provider_transaction_id, status, type, description,
      amount, currency, symbol, quantity, price, date, pending_transaction_id, created_at, updated_at,
      created_seq, change_seq)
    SELECT ${jsonField("id")}, ${userId}, ${jsonField("account_id")}, ${jsonField("provider_transaction_id")}, ${jsonField("status")},
      ${jsonField("type")}, ${jsonField("description")}, ${jsonField("amount")}, ${jsonField("currency")}, ${jsonField("symbol")},
      ${jsonField("quantity")}, ${jsonField("price")}, ${jsonField("date")}, ${jsonField("pending_transaction_id")},
      ${now.getTime()}, ${now.getTime()}, ${feedBase} + ${seqOffset} + j.key + 1, ${feedBase} + ${seqOffset} + j.key + 1
    FROM json_each(${chunk.json}) AS j
    WHERE ${leaseHeld(lease)}
    ON CONFLICT (account_id, provider_transaction_id) DO UPDATE SET
      status = excluded.status, type = excluded.type, description = excluded.description,
      amount = excluded.amount, currency = excluded.currency, symbol = excluded.symbol,
      quantity = excluded.quantity, price = excluded.price, date = excluded.date,
      pending_transaction_id = COALESCE(excluded.pending_transaction_id, transactions.pending_transaction_id),
      updated_at = excluded.updated_at, change_seq = excluded.change_seq`);

/** A transaction to remove, and why. */
export interface RemovalJsonRow {
  id: string;
  account_id: string;
}

/**
 * Removes rows the provider replaced (a pending item that posted under a new id): a feed
 * tombstone first (numbered from `seqOffset`), then the row. Two statements for the same batch.
 */
export const removeTransactions = (
  lease: LeaseHolder,
  userId: string,
  now: Date,
  rows: RemovalJsonRow[],
  seqOffset: number,
) => {
  const json = JSON.stringify(rows);
  return [
    raw(sql`
      INSERT INTO transaction_removals (seq, user_id, transaction_id, account_id, reason, removed_at)
      SELECT ${feedBase} + ${seqOffset} + j.key + 1, ${userId}, ${jsonField("id")}, ${jsonField("account_id")}, 'posted', ${now.getTime()}
      FROM json_each(${json}) AS j
      WHERE ${leaseHeld(lease)}`),
    raw(sql`
      DELETE FROM transactions
      WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(${json})) AND ${leaseHeld(lease)}`),
  ] as const;
};

const ofConnection = (db: Db, connectionId: string) =>
  db.select({ id: accounts.id }).from(accounts).where(eq(accounts.connectionId, connectionId));

/**
 * Deleting a connection's transactions, for its delete batch: tombstones for the user's change
 * feed, the feed counter moved past them, then the rows. Must run before the accounts go.
 */
export const deleteConnectionTransactions = (db: Db, connectionId: string, now: Date) =>
  [
    // drizzle lists every column of the table, in its order: seq, user_id, transaction_id,
    // account_id, reason, removed_at.
    db.insert(transactionRemovals).select(
      sql`SELECT ${feedBase} + ROW_NUMBER() OVER (ORDER BY t.id), t.user_id, t.id, t.account_id, 'connection_deleted', ${now.getTime()}
            FROM transactions AS t
            WHERE t.account_id IN (SELECT id FROM accounts WHERE connection_id = ${connectionId})`,
    ),
    advanceFeedBy(
      db,
      sql`(SELECT COUNT(*) FROM transactions WHERE account_id IN (SELECT id FROM accounts WHERE connection_id = ${connectionId}))`,
    ),
    db.delete(transactions).where(inArray(transactions.accountId, ofConnection(db, connectionId))),
  ] as const;

/** The user's transaction rows changed after feed number `after`, in feed order. */
export const feedChanges = (db: Db, userId: string, after: number, limit: number) =>
  db
    .select()
    .from(transactions)
    .where(and(eq(transactions.userId, userId), gt(transactions.changeSeq, after)))
    .orderBy(asc(transactions.changeSeq))
    .limit(limit);

/** The user's removals after feed number `after`, in feed order. */
export const feedRemovals = (db: Db, userId: string, after: number, limit: number) =>
  db
    .select()
    .from(transactionRemovals)
    .where(and(eq(transactionRemovals.userId, userId), gt(transactionRemovals.seq, after)))
    .orderBy(asc(transactionRemovals.seq))
    .limit(limit);

/**
 * One account's transactions, newest first, inside [from, to], keyset-paginated on (date, id)
 * so pages stay stable while syncs insert rows.
 */
export function listAccountTransactions(
  db: Db,
  accountId: string,
  f: { from?: Date; to?: Date; limit: number; after?: { at: Date; id: string } },
) {
  const page = f.after
    ? or(lt(transactions.date, f.after.at), and(eq(transactions.date, f.after.at), lt(transactions.id, f.after.id)))
    : undefined;
  return db
    .select()
    .from(transactions)
    .where(
      and(
        eq(transactions.accountId, accountId),
        f.from ? gte(transactions.date, f.from) : undefined,
        f.to ? lte(transactions.date, f.to) : undefined,
        page,
      ),
    )
    .orderBy(desc(transactions.date), desc(transactions.id))
    .limit(f.limit);
}

/** Pending rows dated before `before` not yet reported (reconciliation), oldest first. */
export const unpostedPending = (db: Db, before: Date, limit: number) =>
  db
    .select({
      id: transactions.id,
      userId: transactions.userId,
      accountId: transactions.accountId,
      connectionId: accounts.connectionId,
      date: transactions.date,
      amount: transactions.amount,
    })
    .from(transactions)
    .innerJoin(accounts, eq(accounts.id, transactions.accountId))
    .where(and(eq(transactions.status, "pending"), lt(transactions.date, before), isNull(transactions.staleReportedAt)))
    .orderBy(asc(transactions.date))
    .limit(limit);

/** Marks pending rows as reported (not a change clients see: the feed number stays). */
export const markPendingReported = (db: Db, ids: string[], now: Date) =>
  db
    .update(transactions)
    .set({ staleReportedAt: now })
    .where(sql`${transactions.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`);
