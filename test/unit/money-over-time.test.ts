import { describe, expect, it } from "vitest";
import { postedArrivals, reconcile } from "../../src/home/ledger/drift";
import { intervalEnds, netWorth } from "../../src/home/ledger/net-worth";
import type { AccountRow, TransactionRow } from "../../src/home/ledger/rows";
import type { ProviderAccount, ProviderTransaction } from "../../src/home/ledger/snapshot";

const T = new Date("2026-12-07T12:00:00Z");

describe("interval ends", () => {
  it("days, Sundays and month ends in [from, to], then `to`", () => {
    expect(intervalEnds("2026-12-01", "2026-12-03", "day")).toEqual(["2026-12-01", "2026-12-02", "2026-12-03"]);
    // 2026-12-06 and 2026-12-13 are Sundays.
    expect(intervalEnds("2026-12-01", "2026-12-15", "week")).toEqual(["2026-12-06", "2026-12-13", "2026-12-15"]);
    expect(intervalEnds("2026-10-15", "2026-12-07", "month")).toEqual(["2026-10-31", "2026-11-30", "2026-12-07"]);
    expect(intervalEnds("2026-12-31", "2026-12-31", "month")).toEqual(["2026-12-31"]);
    expect(intervalEnds("2024-02-01", "2024-03-01", "month")).toEqual(["2024-02-29", "2024-03-01"]);
  });
});

describe("net worth", () => {
  const accounts = [
    { id: "a", kind: "checking", currency: "EUR" },
    { id: "c", kind: "credit_card", currency: "EUR" },
    { id: "u", kind: "savings", currency: "USD" },
  ];
  it("sums per currency, carries the last known balance forward and says so; never across currencies", () => {
    const points = [
      { accountId: "a", day: "2026-11-30", current: "100.10" },
      { accountId: "a", day: "2026-12-02", current: "150" },
      { accountId: "c", day: "2026-12-01", current: "-40.05" },
      { accountId: "u", day: "2026-12-02", current: "7" },
    ];
    const worth = netWorth(accounts, points, { from: "2026-12-01", to: "2026-12-02", interval: "day" });
    expect(worth.currencies).toEqual([
      {
        currency: "EUR",
        points: [
          {
            date: "2026-12-01",
            assets: "100.1",
            liabilities: "-40.05",
            net: "60.05",
            accounts: 2,
            carried_forward: true,
          },
          {
            date: "2026-12-02",
            assets: "150",
            liabilities: "-40.05",
            net: "109.95",
            accounts: 2,
            carried_forward: true,
          },
        ],
      },
      {
        currency: "USD",
        points: [{ date: "2026-12-02", assets: "7", liabilities: "0", net: "7", accounts: 1, carried_forward: false }],
      },
    ]);
  });
});

describe("reconciliation", () => {
  const account = (
    over: Partial<ProviderAccount["balances"]> = {},
    kind: ProviderAccount["kind"] = "checking",
  ): ProviderAccount => ({
    providerAccountId: "x",
    accountNumberMasked: "••••1",
    name: "A",
    type: "cacc",
    kind,
    currency: "EUR",
    balances: { current: "100", available: "100", asOf: T, ...over },
    holdings: [],
  });
  const storedRow = (over: Partial<AccountRow> = {}): AccountRow =>
    ({
      balanceCurrent: "100",
      balanceCash: null,
      kind: "checking",
      reconStatus: "ok",
      reconDifference: "0",
      reconSince: null,
      ...over,
    }) as AccountRow;
  const tx = (id: string, amount: string, status: "posted" | "pending" = "posted") =>
    ({ providerTransactionId: id, amount, status }) as ProviderTransaction;

  it("a first answer is the baseline; a move the posted transactions explain is ok", () => {
    expect(reconcile(undefined, account(), "0", T)).toEqual({ status: "ok", difference: "0", since: null });
    const arrivals = postedArrivals(new Map(), [tx("1", "-20"), tx("2", "5", "pending")]);
    expect(arrivals).toBe("-20");
    expect(reconcile(storedRow(), account({ current: "80" }), arrivals, T)).toEqual({
      status: "ok",
      difference: "0",
      since: null,
    });
  });

  it("a move they do not explain drifts, keeps its start, and is ok again when they agree", () => {
    const drift = reconcile(storedRow(), account({ current: "97.5" }), "0", T);
    expect(drift).toEqual({ status: "drift", difference: "-2.5", since: T });
    const later = new Date(T.getTime() + 86_400_000);
    const still = reconcile(
      storedRow({ balanceCurrent: "97.5", reconStatus: "drift", reconDifference: "-2.5", reconSince: T }),
      account({ current: "97.5" }),
      "0",
      later,
    );
    expect(still).toEqual({ status: "drift", difference: "-2.5", since: T });
    // The missing fee arrives: it explains the earlier move.
    const agreed = reconcile(
      storedRow({ balanceCurrent: "97.5", reconStatus: "drift", reconDifference: "-2.5", reconSince: T }),
      account({ current: "97.5" }),
      "-2.5",
      later,
    );
    expect(agreed).toEqual({ status: "ok", difference: "0", since: null });
    // Within 0.01: rounding, not drift.
    expect(reconcile(storedRow(), account({ current: "100.009" }), "0", T)?.status).toBe("ok");
    expect(reconcile(storedRow(), account({ current: "99.99" }), "0", T)?.status).toBe("ok");
    expect(reconcile(storedRow(), account({ current: "99.989" }), "0", T)?.status).toBe("drift");
  });

  it("a brokerage account reconciles its cash, not its market value; without cash it is not reconciled", () => {
    const broker = storedRow({ kind: "brokerage", balanceCurrent: "5000", balanceCash: "100" });
    expect(reconcile(broker, account({ current: "5200", cash: "100" }, "brokerage"), "0", T)?.status).toBe("ok");
    expect(reconcile(broker, account({ current: "5000", cash: "90" }, "brokerage"), "0", T)?.status).toBe("drift");
    expect(reconcile(broker, account({ current: "5000" }, "brokerage"), "0", T)).toBeNull();
  });

  it("counts a posted amount that changed, and a pending item that posted", () => {
    const stored = new Map([
      ["1", { status: "posted", amount: "-10" } as TransactionRow],
      ["2", { status: "pending", amount: "-5" } as TransactionRow],
    ]);
    expect(postedArrivals(stored, [tx("1", "-12"), tx("2", "-5"), tx("1b", "3", "pending")])).toBe("-7");
  });
});
