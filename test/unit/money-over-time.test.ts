import { describe, expect, it } from "vitest";
import { postedArrivals, reconcile } from "../../src/home/ledger/drift";
import { intervalEnds, netWorth } from "../../src/home/ledger/net-worth";
import type { AccountRow, TransactionRow } from "../../src/home/ledger/rows";
import type { ProviderAccount, ProviderTransaction } from "../../src/home/ledger/snapshot";
import { decimalAdd } from "../../src/home/money";

const T = new Date("2026-12-07T12:00:00Z");

/** Points grouped by account, in day order, as the home reads them. */
function byAccount(points: { accountId: string; day: string; current: string | null }[]) {
  const history = new Map<string, { day: string; current: string | null }[]>();
  for (const { accountId, ...p } of points) history.set(accountId, [...(history.get(accountId) ?? []), p]);
  return history;
}

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
    const worth = netWorth(accounts, byAccount(points), { from: "2026-12-01", to: "2026-12-02", interval: "day" });
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

describe("net worth's running totals", () => {
  it("equal, at every end, the balances summed afresh (scales, signs and gaps mixed)", () => {
    const accounts = [
      { id: "a", kind: "checking", currency: "EUR" },
      { id: "b", kind: "brokerage", currency: "EUR" },
      { id: "c", kind: "credit_card", currency: "EUR" },
      { id: "l", kind: "loan", currency: "EUR" },
    ];
    const amounts = ["0.1", "0.2", "-3.005", "1000000.01", "-0.3", "7", "12.5", "-99.99"];
    const points: { accountId: string; day: string; current: string }[] = [];
    for (const [n, a] of accounts.entries()) {
      for (let d = n; d < 40; d += 1 + ((d * 5 + n) % 4)) {
        const day = `2026-01-${String(d + 1).padStart(2, "0")}`;
        if (d < 31) points.push({ accountId: a.id, day, current: amounts[(d * 3 + n) % amounts.length] as string });
      }
    }
    const worth = netWorth(accounts, byAccount(points), { from: "2026-01-01", to: "2026-01-31", interval: "day" });
    const series = worth.currencies[0]?.points ?? [];
    expect(series.length).toBe(31);
    for (const p of series) {
      let assets = "0";
      let liabilities = "0";
      for (const a of accounts) {
        const last = points.filter((x) => x.accountId === a.id && x.day <= p.date).at(-1);
        if (!last) continue;
        if (a.kind === "credit_card" || a.kind === "loan") liabilities = decimalAdd(liabilities, last.current);
        else assets = decimalAdd(assets, last.current);
      }
      expect([p.assets, p.liabilities]).toEqual([assets, liabilities]);
      expect(p.net).toBe(decimalAdd(assets, liabilities));
    }
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
