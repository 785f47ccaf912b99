import { describe, expect, it } from "vitest";
import { type AnsweredAccount, planSync, type StoredState, sameDecimal } from "../../src/home/ledger/plan";
import type { AccountRow, HoldingRow, TransactionRow } from "../../src/home/ledger/rows";
import type { ProviderAccount, ProviderTransaction } from "../../src/providers/types";

const T = new Date("2026-11-01T12:00:00Z");
const DAY = 86_400_000;
let n = 0;
const ids = (prefix: string) => `${prefix}_${++n}`;

const account = (over: Partial<ProviderAccount> = {}): ProviderAccount => ({
  providerAccountId: "HASH1",
  accountNumberMasked: "••••1234",
  name: "Schwab Margin ••••1234",
  type: "margin",
  kind: "brokerage",
  currency: "USD",
  balances: { current: "1000.5", available: "200", asOf: T },
  holdings: [
    {
      providerHoldingId: "cusip:1",
      symbol: "AAPL",
      name: "AAPL",
      assetType: "equity",
      quantity: "10",
      price: "150",
      marketValue: "1500",
      currency: "USD",
    },
  ],
  ...over,
});

const tx = (id: string, over: Partial<ProviderTransaction> = {}): ProviderTransaction => ({
  providerTransactionId: id,
  status: "posted",
  type: "trade",
  description: "Buy AAPL",
  amount: "-150.25",
  currency: "USD",
  symbol: "AAPL",
  quantity: "1",
  price: "150.25",
  date: new Date(T.getTime() - DAY),
  raw: { type: "TRADE", status: "VALID", activityType: null, subAccount: null, orderId: null },
  ...over,
});

const answered = (a: ProviderAccount, txs: ProviderTransaction[]): AnsweredAccount => ({
  account: a,
  transactions: txs,
  since: new Date(T.getTime() - 30 * DAY),
});

const empty = (): StoredState => ({ accounts: [], holdings: [], transactions: new Map() });

/** What the ledger would hold after applying a plan to an empty store (enough for the next comparison). */
function storedAfter(first: ReturnType<typeof planSync>): StoredState {
  // The plan's writes are rows already (the column maps' shapes): the store adds only times,
  // connection and feed numbers.
  const times = { createdAt: T, updatedAt: T };
  const accounts = first.accounts.map((a): AccountRow => ({ ...a, connectionId: "c", missingSince: null, ...times }));
  const holdings = first.holdings.map((h): HoldingRow => ({ ...h, ...times }));
  const transactions = new Map<string, TransactionRow[]>();
  for (const t of first.transactions) {
    const row: TransactionRow = { ...t, staleReportedAt: null, ...times, createdSeq: 1, changeSeq: 1 };
    transactions.set(t.accountId, [...(transactions.get(t.accountId) ?? []), row]);
  }
  return { accounts, holdings, transactions };
}

describe("planSync", () => {
  it("a first sync inserts everything", () => {
    const plan = planSync(empty(), [answered(account(), [tx("1"), tx("2")])], ids);
    expect(plan.counts).toMatchObject({ accounts_added: 1, holdings_upserted: 1, transactions_added: 2 });
    expect(plan.transactions.every((t) => t.accountId === plan.accounts[0]?.id)).toBe(true);
  });

  it("the same answer again plans no write at all", () => {
    const answer = [answered(account(), [tx("1"), tx("2")])];
    const plan = planSync(storedAfter(planSync(empty(), answer, ids)), answer, ids);
    expect(plan).toMatchObject({
      accounts: [],
      missingAccountIds: [],
      holdings: [],
      removedHoldingIds: [],
      transactions: [],
      removedTransactions: [],
    });
  });

  it("compares money exactly, not textually: 1000.50 equals 1000.5", () => {
    expect(sameDecimal("1000.50", "1000.5")).toBe(true);
    expect(sameDecimal("0.1", "0.10000001")).toBe(false);
    expect(sameDecimal(null, "0")).toBe(false);
    const stored = storedAfter(planSync(empty(), [answered(account(), [])], ids));
    const again = account({ balances: { current: "1000.50", available: "200.00", asOf: new Date(T.getTime() + DAY) } });
    expect(planSync(stored, [answered(again, [])], ids).accounts).toEqual([]);
  });

  it("only changed rows are written, keeping their ids", () => {
    const stored = storedAfter(planSync(empty(), [answered(account(), [tx("1"), tx("2")])], ids));
    const changed = account({ balances: { current: "999", available: "200", asOf: T } });
    const plan = planSync(stored, [answered(changed, [tx("1"), tx("2", { description: "Corrected" }), tx("3")])], ids);
    expect(plan.counts).toMatchObject({ accounts_updated: 1, transactions_modified: 1, transactions_added: 1 });
    const two = stored.transactions.get(stored.accounts[0]?.id as string)?.find((r) => r.providerTransactionId === "2");
    expect(plan.transactions.find((t) => t.providerTransactionId === "2")?.id).toBe(two?.id);
  });

  it("never deletes because the answer has less: a missing account is flagged, missing transactions stay", () => {
    const stored = storedAfter(
      planSync(
        empty(),
        [answered(account(), [tx("1")]), answered(account({ providerAccountId: "HASH2" }), [tx("9")])],
        ids,
      ),
    );
    const plan = planSync(stored, [answered(account(), [])], ids);
    expect(plan.counts).toMatchObject({ accounts_missing: 1, transactions_removed: 0, holdings_removed: 0 });
    expect(plan.removedTransactions).toEqual([]);
  });

  it("replaces an answered account's holdings: a position no longer listed is removed", () => {
    const stored = storedAfter(planSync(empty(), [answered(account(), [])], ids));
    const sold = account({ holdings: [] });
    const plan = planSync(stored, [answered(sold, [])], ids);
    expect(plan.removedHoldingIds).toEqual([stored.holdings[0]?.id]);
  });

  it("links a posted item to the pending one it replaces and removes the pending row", () => {
    const at = new Date(T.getTime() - 2 * 3_600_000);
    const stored = storedAfter(
      planSync(empty(), [answered(account(), [tx("P", { status: "pending", date: at })])], ids),
    );
    const pendingId = stored.transactions.get(stored.accounts[0]?.id as string)?.[0]?.id;
    const plan = planSync(stored, [answered(account(), [tx("Q", { status: "posted", date: at })])], ids);
    expect(plan.transactions).toHaveLength(1);
    expect(plan.transactions[0]).toMatchObject({ providerTransactionId: "Q", pendingTransactionId: pendingId });
    expect(plan.removedTransactions).toEqual([{ id: pendingId, accountId: stored.accounts[0]?.id, reason: "posted" }]);
  });

  it("removes a vanished pending item that nothing matches (amount, symbol, type or date differ) as vanished", () => {
    const at = new Date(T.getTime() - DAY);
    const stored = storedAfter(
      planSync(empty(), [answered(account(), [tx("P", { status: "pending", date: at })])], ids),
    );
    for (const other of [
      tx("Q", { amount: "-150.26", date: at }),
      tx("Q", { symbol: "MSFT", date: at }),
      tx("Q", { type: "dividend_or_interest", date: at }),
      tx("Q", { date: new Date(at.getTime() + 6 * DAY) }),
    ]) {
      const plan = planSync(stored, [answered(account(), [other])], ids);
      const pending = [...stored.transactions.values()].flat()[0];
      expect(plan.removedTransactions).toEqual([
        { id: pending?.id, accountId: pending?.accountId, reason: "vanished" },
      ]);
      expect(plan.transactions[0]?.pendingTransactionId).toBeNull();
    }
  });

  it("keeps a pending item older than the window (the answer does not speak for it), and a posted one that vanished", () => {
    const old = new Date(T.getTime() - 20 * DAY);
    const stored = storedAfter(
      planSync(
        empty(),
        [
          answered(account(), [
            tx("P", { status: "pending", date: old }),
            tx("Q", { date: new Date(T.getTime() - DAY) }),
          ]),
        ],
        ids,
      ),
    );
    // The next answer starts 7 days back and lists neither.
    const plan = planSync(stored, [{ ...answered(account(), []), since: new Date(T.getTime() - 7 * DAY) }], ids);
    expect(plan.removedTransactions).toEqual([]);
  });
});
