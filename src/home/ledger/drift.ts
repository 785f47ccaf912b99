/**
 * Reconciliation (pure): between two syncs of an account, the change in its reported balance
 * must equal the posted transactions that arrived in between, within 0.01 of the currency
 * (docs/contract.md "Balances, net worth and reconciliation"). A cash account reconciles its
 * current (booked) balance; a brokerage account its cash, never its market value; an account
 * whose provider gives no such figure is not reconciled. The difference is carried from sync to
 * sync, so a transaction the provider never returns keeps the account in drift until it does;
 * nothing is ever "fixed" to make the figures agree.
 */
import { decimalAbs, decimalAdd, decimalCompare, decimalSub, isDecimal } from "../money";
import type { AccountRow, ReconciliationStatus, TransactionRow } from "./rows";
import type { ProviderAccount, ProviderTransaction } from "./snapshot";

/** 0.01 of the currency: what rounding at the provider may leave. */
export const TOLERANCE = "0.01";

/** An account's reconciliation after a sync; null where its balance is not reconciled. */
export interface Reconciliation {
  status: ReconciliationStatus;
  difference: string;
  since: Date | null;
}

/** The balance reconciliation compares, from an account's class: cash for brokerages, else current. */
export function reconciledBalance(kind: string, balances: { current: string | null; cash?: string | null }) {
  const value = kind === "brokerage" ? (balances.cash ?? null) : balances.current;
  return value !== null && isDecimal(value) ? value : null;
}

/**
 * The posted cash that arrived with this answer: new posted rows (a pending item posting under a
 * new id among them) and changed amounts of rows already posted. Pending rows move no booked
 * balance; a posted row the answer omits is kept (and moved nothing).
 */
export function postedArrivals(stored: Map<string, TransactionRow>, answered: Iterable<ProviderTransaction>): string {
  let sum = "0";
  for (const t of answered) {
    if (t.status !== "posted") continue;
    const prior = stored.get(t.providerTransactionId);
    if (!prior || prior.status === "pending") sum = decimalAdd(sum, t.amount);
    else if (prior.amount !== t.amount) sum = decimalAdd(sum, decimalSub(t.amount, prior.amount));
  }
  return sum;
}

/**
 * The account's reconciliation after this answer. The first answer (or the first with a
 * reconcilable balance) is the baseline: `ok`, difference 0.
 */
export function reconcile(
  before: AccountRow | undefined,
  answer: ProviderAccount,
  arrivals: string,
  at: Date,
): Reconciliation | null {
  const now = reconciledBalance(answer.kind, answer.balances);
  if (now === null) return null;
  const prior = before
    ? reconciledBalance(before.kind, { current: before.balanceCurrent, cash: before.balanceCash })
    : null;
  if (!before || prior === null || before.reconStatus === null) return { status: "ok", difference: "0", since: null };
  // What the transactions do not explain, added to what they did not explain before.
  const step = decimalSub(decimalSub(now, prior), arrivals);
  const difference = decimalAdd(before.reconDifference ?? "0", step);
  // Within 0.01 of the currency is agreement; only a difference beyond it is drift.
  if (decimalCompare(decimalAbs(difference), TOLERANCE) <= 0) return { status: "ok", difference, since: null };
  return { status: "drift", difference, since: before.reconStatus === "drift" ? before.reconSince : at };
}

/** Whether a reconciliation differs from the account's stored one (a write, a notice). */
export function reconciliationChanged(before: AccountRow | undefined, r: Reconciliation | null): boolean {
  if (!before) return r !== null;
  if (r === null) return before.reconStatus !== null;
  return (
    before.reconStatus !== r.status ||
    before.reconDifference !== r.difference ||
    (before.reconSince?.getTime() ?? null) !== (r.since?.getTime() ?? null)
  );
}
