/**
 * A user's ledger as their home object stores it (docs/design.md "Where data lives"): one column
 * map per table (./columns.ts), and the row types that follow from them.
 */
import type { z } from "zod";
import {
  SYNC_RUN_STATUSES,
  SYNC_TRIGGERS,
  type SyncRunStatus,
  type SyncStats as SyncStatsSchema,
  type SyncTrigger,
} from "../../wire/sync";
import { int, json, maybeInt, maybeText, maybeTime, type RowOf, table, text, time } from "./columns";
import type { AccountKind } from "./snapshot";

export { SYNC_RUN_STATUSES, SYNC_TRIGGERS, type SyncRunStatus, type SyncTrigger };

/** What a finished run did (the wire `stats`). */
export type SyncStats = z.infer<typeof SyncStatsSchema>;

/**
 * Why a transaction left the ledger: a pending one `posted` under a new id, a pending one the
 * provider stopped listing (`vanished`: cancelled or expired at the bank), or its connection deleted.
 */
export type RemovalReason = "posted" | "vanished" | "connection_deleted";

/** Per connection: which provider, and the marks of its last applied sync. */
export const CONNECTION_MARKS = table("ledger_connections", {
  id: text(),
  provider: text(),
  lastSyncedAt: maybeTime(),
  /** When the newest applied snapshot was fetched: an older one arriving late is refused. */
  appliedFetchedAt: maybeInt(),
});

export const ACCOUNTS = table("accounts", {
  id: text(),
  connectionId: text(),
  /** The provider's stable account reference (Schwab: the account number's hash; GoCardless: the IBAN's). */
  providerAccountId: text(),
  name: text(),
  /** The provider's own type (e.g. "margin", "cacc"). */
  type: text(),
  mask: text(),
  currency: text(),
  balanceCurrent: maybeText(),
  balanceAvailable: maybeText(),
  balancesAsOf: time(),
  missingSince: maybeTime(),
  createdAt: time(),
  updatedAt: time(),
  /** The normalized class (./snapshot.ts); credit cards and loans are liabilities. Added in v6. */
  kind: text<AccountKind>(),
  /** A brokerage account's cash (what reconciliation compares with the cash flows). v7 on. */
  balanceCash: maybeText(),
  /** Reconciliation (./drift.ts): null where the account's balance is not reconciled. */
  reconStatus: maybeText<ReconciliationStatus>(),
  /** The running difference: the balance reported minus the balance the transactions explain. */
  reconDifference: maybeText(),
  /** When the current drift began (null while `ok`). */
  reconSince: maybeTime(),
});

/** Whether the balance and the posted transactions agree (within 0.01 of the currency). */
export type ReconciliationStatus = "ok" | "drift";
export type AccountRow = RowOf<typeof ACCOUNTS.columns>;

export const HOLDINGS = table("holdings", {
  id: text(),
  accountId: text(),
  providerHoldingId: text(),
  symbol: maybeText(),
  name: maybeText(),
  assetType: text(),
  quantity: text(),
  price: maybeText(),
  marketValue: maybeText(),
  currency: text(),
  asOf: time(),
  createdAt: time(),
  updatedAt: time(),
});
export type HoldingRow = RowOf<typeof HOLDINGS.columns>;

export const TRANSACTIONS = table("transactions", {
  id: text(),
  accountId: text(),
  providerTransactionId: text(),
  status: text<"pending" | "posted">(),
  type: text(),
  description: text(),
  amount: text(),
  currency: text(),
  symbol: maybeText(),
  quantity: maybeText(),
  price: maybeText(),
  date: time(),
  pendingTransactionId: maybeText(),
  staleReportedAt: maybeTime(),
  createdAt: time(),
  updatedAt: time(),
  /** Feed number when created; `added` vs `modified` for a cursor. */
  createdSeq: int(),
  /** Feed number of the latest change. */
  changeSeq: int(),
});
export type TransactionRow = RowOf<typeof TRANSACTIONS.columns>;

export const REMOVALS = table("removals", {
  seq: int(),
  transactionId: text(),
  accountId: text(),
  reason: text<RemovalReason>(),
  removedAt: time(),
});
export type RemovalRow = RowOf<typeof REMOVALS.columns>;

export const SYNC_RUNS = table("sync_runs", {
  id: text(),
  connectionId: text(),
  trigger: text<SyncTrigger>(),
  status: text<SyncRunStatus>(),
  idempotencyKey: text(),
  attempts: int(),
  queuedAt: time(),
  startedAt: maybeTime(),
  finishedAt: maybeTime(),
  nextAttemptAt: maybeTime(),
  /** The last time its message was (re)sent to the queue (the outbox resends stuck runs). */
  sentAt: time(),
  stats: json<SyncStats>(),
  errorCode: maybeText(),
  errorMessage: maybeText(),
  /** When the run counts as lost (recorded with it: every attempt with its backoff). */
  deadlineAt: maybeTime(),
  /** The W3C trace that queued it (v8 on). */
  traceId: maybeText(),
});
export type SyncRunRow = RowOf<typeof SYNC_RUNS.columns>;

export const IN_FLIGHT: readonly SyncRunStatus[] = ["queued", "running", "retrying"];
export const FINISHED: readonly SyncRunStatus[] = ["succeeded", "failed", "dead_lettered", "skipped"];

/** One account's balance on one UTC day (the day of the provider's `as_of`): the last of the day. */
export const BALANCE_HISTORY = table("balance_history", {
  accountId: text(),
  /** YYYY-MM-DD (UTC). */
  day: text(),
  current: maybeText(),
  available: maybeText(),
  cash: maybeText(),
  asOf: time(),
});
export type BalancePoint = RowOf<typeof BALANCE_HISTORY.columns>;

/** A change of an account's reconciliation, numbered in the change feed. */
export const RECONCILIATION_NOTICES = table("reconciliation_notices", {
  seq: int(),
  accountId: text(),
  status: text<ReconciliationStatus>(),
  difference: text(),
  since: maybeTime(),
  at: time(),
});
export type ReconciliationNotice = RowOf<typeof RECONCILIATION_NOTICES.columns>;

/** Every ledger table's column map (a test holds each to its table). */
export const LEDGER_TABLES = [
  CONNECTION_MARKS,
  ACCOUNTS,
  HOLDINGS,
  TRANSACTIONS,
  REMOVALS,
  SYNC_RUNS,
  BALANCE_HISTORY,
  RECONCILIATION_NOTICES,
] as const;
