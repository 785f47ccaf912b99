/**
 * A user's ledger as its home object stores it (SQLite inside the user's Gate, docs/design.md
 * "Where data lives"): the row shapes the sync plans against and the API renders. Timestamps are
 * UTC epoch milliseconds in storage and `Date` here.
 */
import type { z } from "zod";
import {
  SYNC_RUN_STATUSES,
  SYNC_TRIGGERS,
  type SyncRunStatus,
  type SyncStats as SyncStatsSchema,
  type SyncTrigger,
} from "../../wire/sync";

export { SYNC_RUN_STATUSES, SYNC_TRIGGERS, type SyncRunStatus, type SyncTrigger };

/** What a finished run did (the wire `stats`). */
export type SyncStats = z.infer<typeof SyncStatsSchema>;

export interface AccountRow {
  id: string;
  connectionId: string;
  /** The provider's stable account reference (Schwab: the account number's hash). */
  providerAccountId: string;
  name: string;
  type: string;
  mask: string;
  currency: string;
  balanceCurrent: string | null;
  balanceAvailable: string | null;
  balancesAsOf: Date;
  missingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface HoldingRow {
  id: string;
  accountId: string;
  providerHoldingId: string;
  symbol: string | null;
  name: string | null;
  assetType: string;
  quantity: string;
  price: string | null;
  marketValue: string | null;
  currency: string;
  asOf: Date;
  createdAt: Date;
  updatedAt: Date;
}

export interface TransactionRow {
  id: string;
  accountId: string;
  providerTransactionId: string;
  status: "pending" | "posted";
  type: string;
  description: string;
  amount: string;
  currency: string;
  symbol: string | null;
  quantity: string | null;
  price: string | null;
  date: Date;
  pendingTransactionId: string | null;
  staleReportedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Feed number when created; `added` vs `modified` for a cursor. */
  createdSeq: number;
  /** Feed number of the latest change. */
  changeSeq: number;
}

export interface RemovalRow {
  seq: number;
  transactionId: string;
  accountId: string;
  reason: "posted" | "connection_deleted";
  removedAt: Date;
}

export const IN_FLIGHT: readonly SyncRunStatus[] = ["queued", "running", "retrying"];
export const FINISHED: readonly SyncRunStatus[] = ["succeeded", "failed", "dead_lettered", "skipped"];

export interface SyncRunRow {
  id: string;
  connectionId: string;
  trigger: SyncTrigger;
  status: SyncRunStatus;
  idempotencyKey: string;
  attempts: number;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  nextAttemptAt: Date | null;
  /** The last time its message was (re)sent to the queue (the outbox resends stuck runs). */
  sentAt: Date;
  stats: SyncStats | null;
  errorCode: string | null;
  errorMessage: string | null;
}
