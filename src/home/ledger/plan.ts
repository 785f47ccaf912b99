/**
 * The comparison at the heart of a sync (pure: no I/O). Given what the user's ledger holds and what the
 * provider answered, it decides the few rows that must change, so re-syncing unchanged data
 * writes nothing and cost grows with changes, not history. It never deletes because the
 * provider answered with less: a missing account is only flagged, a missing transaction stays,
 * and holdings are replaced only for an account present in a complete answer.
 */

import { decimalIsZero, decimalSub } from "../money";
import { postedArrivals, reconcile, reconciliationChanged } from "./drift";
import type { AccountRow, BalancePoint, HoldingRow, ReconciliationNotice, SyncStats, TransactionRow } from "./rows";
import type { ProviderAccount, ProviderHolding, ProviderTransaction } from "./snapshot";

/** A pending item that posts under a new id is matched to its posted form within this distance. */
export const PENDING_MATCH_MS = 5 * 86_400_000;

/** One account of the provider's answer with its transactions for [since, now]. */
export interface AnsweredAccount {
  account: ProviderAccount;
  transactions: ProviderTransaction[];
  since: Date;
}

/** An account to write (what a sync decides; the store adds its connection and times). */
export type AccountWrite = Pick<
  AccountRow,
  | "id"
  | "providerAccountId"
  | "name"
  | "type"
  | "kind"
  | "mask"
  | "currency"
  | "balanceCurrent"
  | "balanceAvailable"
  | "balancesAsOf"
  | "balanceCash"
  | "reconStatus"
  | "reconDifference"
  | "reconSince"
>;

/** A holding to write. */
export type HoldingWrite = Omit<HoldingRow, "createdAt" | "updatedAt">;

/** A transaction to write (its feed numbers and times are the store's). */
export type TransactionWrite = Omit<
  TransactionRow,
  "staleReportedAt" | "createdAt" | "updatedAt" | "createdSeq" | "changeSeq"
>;

/** A pending transaction replaced by its posted form, or no longer listed by the provider. */
export type RemovalWrite = Pick<TransactionRow, "id" | "accountId"> & { reason: "posted" | "vanished" };

/** What the ledger holds for the connection (transactions: per account, the window plus all pending). */
export interface StoredState {
  accounts: AccountRow[];
  holdings: HoldingRow[];
  transactions: Map<string, TransactionRow[]>;
  /** Each stored account's latest balance point, by account id. */
  points?: Map<string, BalancePoint>;
}

/** A change of an account's reconciliation worth telling (a feed entry, a live event, an audit row). */
export type NoticeWrite = Pick<ReconciliationNotice, "accountId" | "status" | "difference" | "since">;

export type PlanCounts = Omit<SyncStats, "rows_written" | "duration_ms" | "accounts_relinked">;

/** The rows to write. */
export interface SyncPlan {
  accounts: AccountWrite[];
  missingAccountIds: string[];
  holdings: HoldingWrite[];
  removedHoldingIds: string[];
  transactions: TransactionWrite[];
  removedTransactions: RemovalWrite[];
  /** The day's balance point of each answered account whose point is new or changed. */
  balancePoints: BalancePoint[];
  notices: NoticeWrite[];
  counts: PlanCounts;
}

/** Exact equality of two decimal strings (or both null): "1.50" equals "1.5". */
export function sameDecimal(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  return a === b || decimalIsZero(decimalSub(a, b));
}

function sameHolding(stored: HoldingRow, h: ProviderHolding): boolean {
  return (
    stored.symbol === h.symbol &&
    stored.name === h.name &&
    stored.assetType === h.assetType &&
    stored.currency === h.currency &&
    sameDecimal(stored.quantity, h.quantity) &&
    sameDecimal(stored.price, h.price) &&
    sameDecimal(stored.marketValue, h.marketValue)
  );
}

function sameTransaction(stored: TransactionRow, t: ProviderTransaction): boolean {
  return (
    stored.status === t.status &&
    stored.type === t.type &&
    stored.description === t.description &&
    stored.currency === t.currency &&
    stored.symbol === t.symbol &&
    stored.date.getTime() === t.date.getTime() &&
    sameDecimal(stored.amount, t.amount) &&
    sameDecimal(stored.quantity, t.quantity) &&
    sameDecimal(stored.price, t.price)
  );
}

const transactionWrite = (
  id: string,
  accountId: string,
  t: ProviderTransaction,
  pendingId: string | null,
): TransactionWrite => ({
  id,
  accountId,
  providerTransactionId: t.providerTransactionId,
  status: t.status,
  type: t.type,
  description: t.description,
  amount: t.amount,
  currency: t.currency,
  symbol: t.symbol,
  quantity: t.quantity,
  price: t.price,
  date: t.date,
  pendingTransactionId: pendingId,
});

/**
 * Pending rows the answer no longer lists (inside its window) matched to new posted items of the
 * same type, amount and symbol within PENDING_MATCH_MS, nearest date first: docs/providers/schwab.md says
 * only status tells pending from posted and the id changes. Returns posted id → pending row, and
 * the vanished pending rows nothing posted for (the bank dropped them: cancelled, expired holds).
 */
function matchPosted(stored: TransactionRow[], answered: ProviderTransaction[], since: Date, known: Set<string>) {
  const listed = new Set(answered.map((t) => t.providerTransactionId));
  const vanished = stored.filter(
    (r) => r.status === "pending" && !listed.has(r.providerTransactionId) && r.date.getTime() >= since.getTime(),
  );
  const candidates = answered.filter((t) => t.status === "posted" && !known.has(t.providerTransactionId));
  const links = new Map<string, TransactionRow>();
  for (const pending of vanished) {
    let best: ProviderTransaction | null = null;
    for (const t of candidates) {
      if (links.has(t.providerTransactionId)) continue;
      const distance = Math.abs(t.date.getTime() - pending.date.getTime());
      if (
        t.type !== pending.type ||
        t.symbol !== pending.symbol ||
        !sameDecimal(t.amount, pending.amount) ||
        distance > PENDING_MATCH_MS
      ) {
        continue;
      }
      if (!best || distance < Math.abs(best.date.getTime() - pending.date.getTime())) best = t;
    }
    if (best) links.set(best.providerTransactionId, pending);
  }
  const linked = new Set([...links.values()].map((r) => r.id));
  return { links, unmatched: vanished.filter((r) => !linked.has(r.id)) };
}

/** An answer's transactions, one per provider id (the last wins, as the upsert would). */
const uniqueById = (answered: ProviderTransaction[]) =>
  new Map(answered.map((t) => [t.providerTransactionId, t])).values();

/** The UTC day of an instant, YYYY-MM-DD. */
export const utcDay = (d: Date) => d.toISOString().slice(0, 10);

/**
 * The account's point for the day of its reported `as_of`: new, or replacing that day's with
 * different figures. A day before the latest point is never rewritten.
 */
function balancePoint(accountId: string, a: ProviderAccount, latest: BalancePoint | undefined): BalancePoint | null {
  const day = utcDay(a.balances.asOf);
  const point: BalancePoint = {
    accountId,
    day,
    current: a.balances.current,
    available: a.balances.available,
    cash: a.balances.cash ?? null,
    asOf: a.balances.asOf,
  };
  if (!latest) return point;
  if (day < latest.day) return null;
  const same =
    day === latest.day &&
    sameDecimal(latest.current, point.current) &&
    sameDecimal(latest.available, point.available) &&
    sameDecimal(latest.cash, point.cash);
  return same ? null : point;
}

/** Decides every write of one sync. `newId` makes ids for rows that do not exist yet. */
export function planSync(stored: StoredState, answer: AnsweredAccount[], newId: (prefix: string) => string): SyncPlan {
  const plan: SyncPlan = {
    accounts: [],
    missingAccountIds: [],
    holdings: [],
    removedHoldingIds: [],
    transactions: [],
    removedTransactions: [],
    balancePoints: [],
    notices: [],
    counts: {
      accounts_added: 0,
      accounts_updated: 0,
      accounts_missing: 0,
      holdings_upserted: 0,
      holdings_removed: 0,
      transactions_added: 0,
      transactions_modified: 0,
      transactions_removed: 0,
      transactions_fetched: 0,
    },
  };
  const c = plan.counts;
  const accountsByRef = new Map(stored.accounts.map((a) => [a.providerAccountId, a]));
  const seen = new Set<string>();

  for (const { account: a, transactions: answered, since } of answer) {
    if (seen.has(a.providerAccountId)) continue;
    seen.add(a.providerAccountId);
    const before = accountsByRef.get(a.providerAccountId);
    const accountId = before?.id ?? newId("acc");
    const rows = before ? (stored.transactions.get(before.id) ?? []) : [];
    const byRef = new Map(rows.map((r) => [r.providerTransactionId, r]));
    const cash = a.balances.cash ?? null;
    const recon = reconcile(before, a, postedArrivals(byRef, uniqueById(answered)), a.balances.asOf);
    const reconChanged = reconciliationChanged(before, recon);
    const balancesChanged =
      !before ||
      !sameDecimal(before.balanceCurrent, a.balances.current) ||
      !sameDecimal(before.balanceAvailable, a.balances.available) ||
      !sameDecimal(before.balanceCash, cash);
    const changed =
      balancesChanged ||
      reconChanged ||
      !before ||
      before.name !== a.name ||
      before.type !== a.type ||
      before.kind !== a.kind ||
      before.mask !== a.accountNumberMasked ||
      before.currency !== a.currency ||
      before.missingSince !== null;
    if (changed) {
      plan.accounts.push({
        id: accountId,
        providerAccountId: a.providerAccountId,
        name: a.name,
        type: a.type,
        kind: a.kind,
        mask: a.accountNumberMasked,
        currency: a.currency,
        balanceCurrent: a.balances.current,
        balanceAvailable: a.balances.available,
        // Unchanged figures keep their time; the API dates them by the last successful sync.
        balancesAsOf: balancesChanged || !before ? a.balances.asOf : before.balancesAsOf,
        balanceCash: cash,
        reconStatus: recon?.status ?? null,
        reconDifference: recon?.difference ?? null,
        reconSince: recon?.since ?? null,
      });
      if (before) c.accounts_updated++;
      else c.accounts_added++;
    }
    const told = before?.reconStatus ?? null;
    if (
      recon &&
      (recon.status !== told || (recon.status === "drift" && recon.difference !== before?.reconDifference))
    ) {
      // Baselines are not news: only a drift, a changed drift, or a return to ok after one.
      if (recon.status === "drift" || told === "drift") plan.notices.push({ accountId, ...recon });
    }
    const point = balancePoint(accountId, a, stored.points?.get(accountId));
    if (point) plan.balancePoints.push(point);

    // Holdings: this account's answer is complete, so it replaces the stored set.
    const held = new Map(
      stored.holdings.filter((h) => before && h.accountId === before.id).map((h) => [h.providerHoldingId, h]),
    );
    for (const h of a.holdings) {
      const prior = held.get(h.providerHoldingId);
      held.delete(h.providerHoldingId);
      if (prior && sameHolding(prior, h)) continue;
      plan.holdings.push({
        id: prior?.id ?? newId("hld"),
        accountId,
        providerHoldingId: h.providerHoldingId,
        symbol: h.symbol,
        name: h.name,
        assetType: h.assetType,
        quantity: h.quantity,
        price: h.price,
        marketValue: h.marketValue,
        currency: h.currency,
        asOf: a.balances.asOf,
      });
      c.holdings_upserted++;
    }
    for (const gone of held.values()) {
      plan.removedHoldingIds.push(gone.id);
      c.holdings_removed++;
    }

    // Transactions: upsert new and changed ones; replace pending rows that posted under a new id.
    c.transactions_fetched += answered.length;
    const { links, unmatched } = matchPosted(rows, answered, since, new Set(byRef.keys()));
    for (const t of uniqueById(answered)) {
      const prior = byRef.get(t.providerTransactionId);
      if (prior && sameTransaction(prior, t)) continue;
      const pending = links.get(t.providerTransactionId) ?? null;
      plan.transactions.push(transactionWrite(prior?.id ?? newId("txn"), accountId, t, pending?.id ?? null));
      if (prior) c.transactions_modified++;
      else c.transactions_added++;
      if (pending) {
        plan.removedTransactions.push({ id: pending.id, accountId, reason: "posted" });
        c.transactions_removed++;
      }
    }
    // A pending item the provider stopped listing, with nothing posted for it, is gone at the bank
    // (a posted one that disappears is kept: docs/design.md "Sync").
    for (const gone of unmatched) {
      plan.removedTransactions.push({ id: gone.id, accountId, reason: "vanished" });
      c.transactions_removed++;
    }
  }

  for (const a of stored.accounts) {
    if (!seen.has(a.providerAccountId) && a.missingSince === null) {
      plan.missingAccountIds.push(a.id);
      c.accounts_missing++;
    }
  }
  return plan;
}
