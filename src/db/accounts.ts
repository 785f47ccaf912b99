/** Accounts and holdings: the sync's reads and bulk upserts, and the data API's reads. */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "./client";
import type { JsonChunk } from "./json-rows";
import { raw } from "./raw-batch";
import { accounts, connections, holdings } from "./schema";
import { jsonField, type LeaseHolder, leaseHeld } from "./sync-write";

export type AccountRow = typeof accounts.$inferSelect;
export type HoldingRow = typeof holdings.$inferSelect;

/** Every account of a connection (the sync compares against all of them). */
export const listConnectionAccounts = (db: Db, connectionId: string) =>
  db.select().from(accounts).where(eq(accounts.connectionId, connectionId));

/** Every holding of a connection's accounts. */
export const listConnectionHoldings = (db: Db, connectionId: string) =>
  db
    .select()
    .from(holdings)
    .where(
      inArray(
        holdings.accountId,
        db.select({ id: accounts.id }).from(accounts).where(eq(accounts.connectionId, connectionId)),
      ),
    );

/** One row of an account upsert chunk (JSON keys = columns). */
export interface AccountJsonRow {
  id: string;
  provider_account_id: string;
  name: string;
  type: string;
  mask: string;
  currency: string;
  balance_current: string | null;
  balance_available: string | null;
  balances_as_of: number;
}

/** Upserts a chunk of accounts keyed by (connection, provider account id); clears `missing_since`. */
export const upsertAccounts = (lease: LeaseHolder, userId: string, now: Date, chunk: JsonChunk) =>
  raw(sql`
    INSERT INTO accounts (id, user_id, connection_id, provider_account_id, name, type, mask, currency,
      balance_current, balance_available, balances_as_of, missing_since, created_at, updated_at)
    SELECT ${jsonField("id")}, ${userId}, ${lease.connectionId}, ${jsonField("provider_account_id")}, ${jsonField("name")},
      ${jsonField("type")}, ${jsonField("mask")}, ${jsonField("currency")}, ${jsonField("balance_current")}, ${jsonField("balance_available")},
      ${jsonField("balances_as_of")}, NULL, ${now.getTime()}, ${now.getTime()}
    FROM json_each(${chunk.json}) AS j
    WHERE ${leaseHeld(lease)}
    ON CONFLICT (connection_id, provider_account_id) DO UPDATE SET
      name = excluded.name, type = excluded.type, mask = excluded.mask, currency = excluded.currency,
      balance_current = excluded.balance_current, balance_available = excluded.balance_available,
      balances_as_of = excluded.balances_as_of, missing_since = NULL, updated_at = excluded.updated_at`);

/** Flags accounts the provider stopped listing (their data stays). */
export const markAccountsMissing = (lease: LeaseHolder, ids: string[], now: Date) =>
  raw(sql`
    UPDATE accounts SET missing_since = ${now.getTime()}, updated_at = ${now.getTime()}
    WHERE id IN (SELECT value FROM json_each(${JSON.stringify(ids)})) AND missing_since IS NULL AND ${leaseHeld(lease)}`);

/** One row of a holding upsert chunk. */
export interface HoldingJsonRow {
  id: string;
  account_id: string;
  provider_holding_id: string;
  symbol: string | null;
  name: string | null;
  asset_type: string;
  quantity: string;
  price: string | null;
  market_value: string | null;
  currency: string;
  as_of: number;
}

/** Upserts a chunk of holdings keyed by (account, provider holding id). */
export const upsertHoldings = (lease: LeaseHolder, userId: string, now: Date, chunk: JsonChunk) =>
  raw(sql`
    INSERT INTO holdings (id, user_id, account_id, provider_holding_id, symbol, name, asset_type, quantity,
      price, market_value, currency, as_of, created_at, updated_at)
    SELECT ${jsonField("id")}, ${userId}, ${jsonField("account_id")}, ${jsonField("provider_holding_id")}, ${jsonField("symbol")},
      ${jsonField("name")}, ${jsonField("asset_type")}, ${jsonField("quantity")}, ${jsonField("price")}, ${jsonField("market_value")},
      ${jsonField("currency")}, ${jsonField("as_of")}, ${now.getTime()}, ${now.getTime()}
    FROM json_each(${chunk.json}) AS j
    WHERE ${leaseHeld(lease)}
    ON CONFLICT (account_id, provider_holding_id) DO UPDATE SET
      symbol = excluded.symbol, name = excluded.name, asset_type = excluded.asset_type,
      quantity = excluded.quantity, price = excluded.price, market_value = excluded.market_value,
      currency = excluded.currency, as_of = excluded.as_of, updated_at = excluded.updated_at`);

/** Deletes holdings a complete answer no longer lists. */
export const deleteHoldings = (lease: LeaseHolder, ids: string[]) =>
  raw(sql`
    DELETE FROM holdings WHERE id IN (SELECT value FROM json_each(${JSON.stringify(ids)})) AND ${leaseHeld(lease)}`);

/** An account with what the API needs from its connection (to date its balances). */
const withConnection = {
  account: accounts,
  lastSyncedAt: connections.lastSyncedAt,
};

/** A user's accounts, optionally of one connection, oldest first. */
export const listUserAccounts = (db: Db, userId: string, connectionId?: string) =>
  db
    .select(withConnection)
    .from(accounts)
    .innerJoin(connections, eq(connections.id, accounts.connectionId))
    .where(and(eq(accounts.userId, userId), connectionId ? eq(accounts.connectionId, connectionId) : undefined))
    .orderBy(asc(accounts.createdAt), asc(accounts.id));

/** One of the user's accounts (another user's is indistinguishable from a missing one). */
export const findUserAccount = (db: Db, userId: string, id: string) =>
  db
    .select(withConnection)
    .from(accounts)
    .innerJoin(connections, eq(connections.id, accounts.connectionId))
    .where(and(eq(accounts.id, id), eq(accounts.userId, userId)))
    .get();

/** An account's holdings, by symbol. */
export const listAccountHoldings = (db: Db, accountId: string) =>
  db.select().from(holdings).where(eq(holdings.accountId, accountId)).orderBy(asc(holdings.symbol), asc(holdings.id));

/** Accounts (and, by cascade, holdings) of a connection: part of deleting it. */
export const deleteConnectionAccounts = (db: Db, connectionId: string) =>
  db.delete(accounts).where(eq(accounts.connectionId, connectionId));
