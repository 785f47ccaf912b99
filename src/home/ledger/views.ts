/**
 * Wire shapes of synced data (docs/contract.md "Providers, connections and data"). Money and quantities
 * are the exact decimal strings stored; timestamps RFC 3339 UTC.
 */

import type { z } from "zod";
import {
  type Account,
  type BalancePoint as BalancePointSchema,
  type Holding,
  LIABILITY_KINDS,
  type Transaction,
} from "../../wire/data";
import type { AccountRow, BalancePoint, HoldingRow, TransactionRow } from "./rows";

/** The wire shape of an account (src/wire/data.ts). */
export type AccountView = z.infer<typeof Account>;

/** The wire shape of a holding. */
export type HoldingView = z.infer<typeof Holding>;

/** The wire shape of a transaction. */
export type TransactionView = z.infer<typeof Transaction>;

/**
 * When the provider last confirmed an account's figures. A sync that finds them unchanged
 * writes nothing, so the connection's last successful sync vouches for them, unless the
 * provider stopped listing the account.
 */
export function confirmedAt(row: AccountRow, lastSyncedAt: Date | null, written: Date): Date {
  if (row.missingSince || !lastSyncedAt || lastSyncedAt <= written) return written;
  return lastSyncedAt;
}

const LIABILITIES = new Set<string>(LIABILITY_KINDS);

export const accountView = (row: AccountRow, lastSyncedAt: Date | null): AccountView => ({
  id: row.id,
  connection_id: row.connectionId,
  name: row.name,
  type: row.kind,
  subtype: row.type,
  classification: LIABILITIES.has(row.kind) ? "liability" : "asset",
  reconciliation: row.reconStatus
    ? {
        status: row.reconStatus,
        difference: row.reconDifference ?? "0",
        since: row.reconSince?.toISOString() ?? null,
      }
    : null,
  mask: row.mask,
  currency: row.currency,
  balances: {
    current: row.balanceCurrent,
    available: row.balanceAvailable,
    as_of: confirmedAt(row, lastSyncedAt, row.balancesAsOf).toISOString(),
  },
  missing_since: row.missingSince?.toISOString() ?? null,
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
});

export const holdingView = (row: HoldingRow, account: AccountRow, lastSyncedAt: Date | null): HoldingView => ({
  id: row.id,
  symbol: row.symbol,
  name: row.name,
  asset_type: row.assetType,
  quantity: row.quantity,
  price: row.price,
  market_value: row.marketValue,
  currency: row.currency,
  as_of: confirmedAt(account, lastSyncedAt, row.asOf).toISOString(),
});

export const transactionView = (row: TransactionRow): TransactionView => ({
  id: row.id,
  account_id: row.accountId,
  status: row.status,
  type: row.type,
  description: row.description,
  amount: row.amount,
  currency: row.currency,
  symbol: row.symbol,
  quantity: row.quantity,
  price: row.price,
  date: row.date.toISOString(),
  pending_transaction_id: row.pendingTransactionId,
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
});

/** The wire shape of a balance point. */
export const balancePointView = (p: BalancePoint): z.infer<typeof BalancePointSchema> => ({
  date: p.day,
  current: p.current,
  available: p.available,
  cash: p.cash,
  as_of: p.asOf.toISOString(),
});

/** Balance pages are keyed by day: a cursor is `d1.` and the last day seen. */
export const DAY_CURSOR_PREFIX = "d1.";
export const encodeDayCursor = (day: string) => `${DAY_CURSOR_PREFIX}${day}`;
export function decodeDayCursor(cursor: string): string | null {
  const day = cursor.startsWith(DAY_CURSOR_PREFIX) ? cursor.slice(DAY_CURSOR_PREFIX.length) : "";
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? day : null;
}
