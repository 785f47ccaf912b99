import { describe, expect, it } from "vitest";
import { decimalAdd, decimalFromNumber, decimalSub } from "../../../src/home/money";
import { SCHWAB_MAX_RESULTS } from "../../../src/providers/schwab";
import type { ProviderAccount, ProviderTransaction } from "../../../src/providers/types";
import { adapterFor, connect, DAY, DECIMAL, mountSandbox, raw, T0 } from "./support";

type RawAccount = {
  securitiesAccount: {
    type: string;
    accountNumber: string;
    currentBalances: Record<string, number>;
    positions: {
      longQuantity: number;
      shortQuantity: number;
      marketValue: number;
      instrument: { symbol: string; assetType: string };
    }[];
  };
};
type RawTransaction = { activityId: number; time: string; status: string; netAmount: number };

const lastYear = (now: number) => ({ start: new Date(now - 365 * DAY), end: new Date(now) });

async function setup(opts: { scenario?: string; login?: string } = {}, sandboxOptions = {}) {
  const sandbox = mountSandbox(sandboxOptions);
  const adapter = adapterFor(sandbox);
  const tokens = await connect(sandbox, adapter, opts);
  return { sandbox, adapter, tokens };
}

function moneyFieldsOf(accounts: ProviderAccount[]): (string | null)[] {
  return accounts.flatMap((a) => [
    a.balances.current,
    a.balances.available,
    ...a.holdings.flatMap((h) => [h.quantity, h.price, h.marketValue]),
  ]);
}

describe("Schwab adapter + sandbox: accounts", () => {
  it("maps accounts, balances and holdings with exact decimal strings", async () => {
    const { sandbox, adapter, tokens } = await setup();
    const accounts = await adapter.accounts(tokens.accessToken);
    const rawAccounts = (await raw(sandbox, tokens.accessToken, "/accounts?fields=positions")).body as RawAccount[];

    expect(accounts.map((a) => a.type)).toEqual(["margin", "cash"]);
    for (const [i, account] of accounts.entries()) {
      const r = (rawAccounts[i] as RawAccount).securitiesAccount;
      expect(account.currency).toBe("USD");
      expect(account.balances.asOf.getTime()).toBe(T0);
      expect(account.balances.current).toBe(decimalFromNumber(r.currentBalances.liquidationValue as number));
      // Margin: cashBalance; cash: totalCash (the sandbox's cash account has no cashBalance).
      const cash = r.type === "MARGIN" ? r.currentBalances.cashBalance : r.currentBalances.totalCash;
      expect(account.balances.available).toBe(decimalFromNumber(cash as number));
      expect(account.holdings).toHaveLength(r.positions.length);
      for (const [j, h] of account.holdings.entries()) {
        const p = r.positions[j] as RawAccount["securitiesAccount"]["positions"][number];
        expect(h.quantity).toBe(decimalSub(decimalFromNumber(p.longQuantity), decimalFromNumber(p.shortQuantity)));
        expect(h.marketValue).toBe(decimalFromNumber(p.marketValue));
      }
    }
    for (const value of moneyFieldsOf(accounts)) if (value !== null) expect(value).toMatch(DECIMAL);
  });

  it("normalizes asset types, shorts and option prices", async () => {
    const { adapter, tokens } = await setup();
    const [margin, cash] = await adapter.accounts(tokens.accessToken);
    const bySymbol = new Map([...(margin?.holdings ?? []), ...(cash?.holdings ?? [])].map((h) => [h.symbol, h]));

    const spy = bySymbol.get("SPY");
    expect(spy).toMatchObject({ assetType: "etf", name: "SPDR S&P 500 ETF", providerHoldingId: "cusip:78462F103" });

    const aapl = bySymbol.get("AAPL");
    // Equities often come without a description: the symbol stands in as the name.
    expect(aapl).toMatchObject({ assetType: "equity", name: "AAPL", providerHoldingId: "cusip:037833100" });

    const tsla = bySymbol.get("TSLA");
    expect(tsla?.quantity.startsWith("-")).toBe(true);
    expect(tsla?.marketValue?.startsWith("-")).toBe(true);
    expect(tsla?.price).not.toMatch(/^-/);

    const put = bySymbol.get("META  250131P00510000");
    expect(put?.assetType).toBe("option");
    // Price per share of a 100-share contract: marketValue / (contracts × 100).
    const contracts = Number(put?.quantity);
    expect(Number(put?.price)).toBeCloseTo(Number(put?.marketValue) / (contracts * 100), 6);

    expect(bySymbol.get("SWVXX")?.assetType).toBe("mutual_fund");
    expect(bySymbol.get("VTI")?.assetType).toBe("etf");
  });

  it("exposes account numbers only masked; the hashValue is the account reference", async () => {
    const { sandbox, adapter, tokens } = await setup();
    const accounts = await adapter.accounts(tokens.accessToken);
    const numbers = (await raw(sandbox, tokens.accessToken, "/accounts/accountNumbers")).body as {
      accountNumber: string;
      hashValue: string;
    }[];
    expect(numbers).toHaveLength(2);
    const serialized = JSON.stringify(accounts);
    for (const [i, n] of numbers.entries()) {
      expect(serialized).not.toContain(n.accountNumber);
      expect(accounts[i]?.accountNumberMasked).toBe(`••••${n.accountNumber.slice(-4)}`);
      expect(accounts[i]?.providerAccountId).toBe(n.hashValue);
      expect(n.hashValue).toMatch(/^[0-9A-F]{64}$/);
      expect(accounts[i]?.name).toContain(`••••${n.accountNumber.slice(-4)}`);
    }
    const txs = await adapter.transactions(tokens.accessToken, numbers[0]?.hashValue as string, lastYear(T0));
    const txText = JSON.stringify(txs);
    for (const n of numbers) expect(txText).not.toContain(n.accountNumber);
  });

  it("is deterministic per login and differs between logins", async () => {
    const a = await setup({ login: "alice" });
    const b = await setup({ login: "alice" });
    const c = await setup({ login: "carol" });
    const [accA, accB, accC] = await Promise.all([
      a.adapter.accounts(a.tokens.accessToken),
      b.adapter.accounts(b.tokens.accessToken),
      c.adapter.accounts(c.tokens.accessToken),
    ]);
    expect(accB).toEqual(accA);
    expect(accC.map((x) => x.providerAccountId)).not.toEqual(accA.map((x) => x.providerAccountId));
    const hash = accA[0]?.providerAccountId as string;
    const txA = await a.adapter.transactions(a.tokens.accessToken, hash, lastYear(T0));
    const txB = await b.adapter.transactions(b.tokens.accessToken, hash, lastYear(T0));
    expect(txB).toEqual(txA);
  });

  it("empty: no accounts at all", async () => {
    const { sandbox, adapter, tokens } = await setup({ scenario: "empty" });
    expect(await adapter.accounts(tokens.accessToken)).toEqual([]);
    expect((await raw(sandbox, tokens.accessToken, "/accounts/accountNumbers")).body).toEqual([]);
  });
});

describe("Schwab adapter + sandbox: transactions", () => {
  async function defaultHistory() {
    const ctx = await setup();
    const [margin, cash] = await ctx.adapter.accounts(ctx.tokens.accessToken);
    return { ...ctx, margin: margin as ProviderAccount, cash: cash as ProviderAccount };
  }

  it("default: about 200 posted transactions over the last year, INVALID ones skipped", async () => {
    const { sandbox, adapter, tokens, margin, cash } = await defaultHistory();
    const m = await adapter.transactions(tokens.accessToken, margin.providerAccountId, lastYear(T0));
    const c = await adapter.transactions(tokens.accessToken, cash.providerAccountId, lastYear(T0));
    expect(m).toHaveLength(120);
    expect(c).toHaveLength(80);
    const rawItems = (
      await raw(
        sandbox,
        tokens.accessToken,
        `/accounts/${margin.providerAccountId}/transactions?startDate=${new Date(T0 - 365 * DAY).toISOString()}&endDate=${new Date(T0).toISOString()}&types=TRADE,DIVIDEND_OR_INTEREST,ACH_RECEIPT,ACH_DISBURSEMENT,JOURNAL`,
      )
    ).body as RawTransaction[];
    expect(rawItems.filter((t) => t.status === "INVALID")).toHaveLength(1);
    const invalidId = String(rawItems.find((t) => t.status === "INVALID")?.activityId);
    expect(m.some((t) => t.providerTransactionId === invalidId)).toBe(false);

    for (const t of [...m, ...c]) {
      expect(t.status).toBe("posted");
      expect(t.amount).toMatch(DECIMAL);
      expect(t.providerTransactionId).toMatch(/^\d{11}$/);
      expect(t.date.getTime()).toBeLessThanOrEqual(T0);
      expect(t.date.getTime()).toBeGreaterThanOrEqual(T0 - 365 * DAY);
    }
    expect(new Set(m.map((t) => t.providerTransactionId)).size).toBe(m.length);
    // Sorted oldest first.
    const times = m.map((t) => t.date.getTime());
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    // Several kinds, including fees and dividends.
    expect(new Set([...m, ...c].map((t) => t.type))).toEqual(
      new Set(["trade", "dividend_or_interest", "ach_receipt", "ach_disbursement", "journal"]),
    );
  });

  it("maps amounts and dates exactly from the raw Schwab items (+0000 timestamps)", async () => {
    const { sandbox, adapter, tokens, margin } = await defaultHistory();
    const range = lastYear(T0);
    const txs = await adapter.transactions(tokens.accessToken, margin.providerAccountId, range);
    const query = `startDate=${range.start.toISOString()}&endDate=${range.end.toISOString()}&types=TRADE,DIVIDEND_OR_INTEREST,ACH_RECEIPT,ACH_DISBURSEMENT,JOURNAL`;
    const rawItems = (
      await raw(sandbox, tokens.accessToken, `/accounts/${margin.providerAccountId}/transactions?${query}`)
    ).body as RawTransaction[];
    const byId = new Map(rawItems.map((r) => [String(r.activityId), r]));
    for (const t of txs) {
      const r = byId.get(t.providerTransactionId) as RawTransaction;
      expect(r.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000$/);
      expect(t.date.toISOString()).toBe(`${r.time.slice(0, 19)}.000Z`);
      expect(t.amount).toBe(decimalFromNumber(r.netAmount));
    }
  });

  it("takes symbol, quantity and price from the security leg, not the CURRENCY_USD fee legs", async () => {
    const { adapter, tokens, margin } = await defaultHistory();
    const txs = await adapter.transactions(tokens.accessToken, margin.providerAccountId, lastYear(T0));
    const trades = txs.filter((t) => t.type === "trade");
    expect(trades.length).toBeGreaterThan(20);
    for (const t of trades) {
      expect(t.symbol).toMatch(/^(AAPL|SPY|TSLA)$/);
      expect(t.quantity).toMatch(DECIMAL);
      expect(Number(t.price)).toBeGreaterThan(0);
      expect(t.raw.activityType).toBe("EXECUTION");
      // A sell: negative quantity, cash in (net of fees); a buy: the opposite.
      if (t.quantity?.startsWith("-")) expect(Number(t.amount)).toBeGreaterThan(0);
      else expect(Number(t.amount)).toBeLessThan(0);
    }
    const fees = txs.filter((t) => t.type === "journal");
    for (const f of fees) {
      expect(f.symbol).toBeNull();
      expect(f.description).toBe("ADR FEE");
    }
  });

  it("large: exactly 10,000 distinct transactions through window splitting, never over 3,000 per call", async () => {
    const { sandbox, adapter, tokens } = await setup({ scenario: "large" });
    const [margin] = await adapter.accounts(tokens.accessToken);
    const before = sandbox.seen.length;
    const txs = await adapter.transactions(tokens.accessToken, margin?.providerAccountId as string, lastYear(T0));
    expect(txs).toHaveLength(10_000);
    expect(new Set(txs.map((t) => t.providerTransactionId)).size).toBe(10_000);
    const calls = sandbox.seen.slice(before);
    expect(calls.every((s) => s.status === 200)).toBe(true);
    expect(calls.some((s) => s.items === SCHWAB_MAX_RESULTS)).toBe(true);
    expect(Math.max(...calls.map((s) => s.items ?? 0))).toBeLessThanOrEqual(SCHWAB_MAX_RESULTS);
    expect(calls.length).toBeGreaterThanOrEqual(7);
  }, 30_000);

  it("splits a multi-year range into windows of at most a year", async () => {
    const { sandbox, adapter, tokens, margin } = await defaultHistory();
    const before = sandbox.seen.length;
    const long = await adapter.transactions(tokens.accessToken, margin.providerAccountId, {
      start: new Date(T0 - 3 * 365 * DAY - 5 * DAY),
      end: new Date(T0),
    });
    const calls = sandbox.seen.slice(before);
    expect(calls).toHaveLength(4);
    for (const c of calls) {
      expect(c.status).toBe(200);
      const start = Date.parse(c.url.searchParams.get("startDate") as string);
      const end = Date.parse(c.url.searchParams.get("endDate") as string);
      expect(end - start).toBeLessThanOrEqual(365 * DAY);
      expect(c.url.searchParams.get("startDate")).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(c.url.searchParams.get("types")?.split(",")).toHaveLength(15);
    }
    expect(long).toEqual(await adapter.transactions(tokens.accessToken, margin.providerAccountId, lastYear(T0)));
  });

  it("new transactions appear when the clock moves forward", async () => {
    const { sandbox, adapter, tokens, margin } = await defaultHistory();
    const before = await adapter.transactions(tokens.accessToken, margin.providerAccountId, lastYear(T0));
    sandbox.clock.advance(3 * DAY);
    const refreshed = await adapter.refresh(tokens.refreshToken);
    const now = sandbox.clock.ms;
    const after = await adapter.transactions(refreshed.accessToken, margin.providerAccountId, {
      start: new Date(T0 - 360 * DAY),
      end: new Date(now),
    });
    const known = new Set(before.map((t) => t.providerTransactionId));
    const added = after.filter((t) => !known.has(t.providerTransactionId));
    expect(added).toHaveLength(3);
    for (const t of added) expect(t.date.getTime()).toBeGreaterThan(T0);
  });

  it("pending_to_posted: a pending trade later posts under a new id with the same amount", async () => {
    const { sandbox, adapter, tokens } = await setup({ scenario: "pending_to_posted" });
    const [margin] = await adapter.accounts(tokens.accessToken);
    const hash = margin?.providerAccountId as string;
    const first = await adapter.transactions(tokens.accessToken, hash, lastYear(T0));
    const pending = first.filter((t) => t.status === "pending");
    expect(pending).toHaveLength(1);
    const p = pending[0] as ProviderTransaction;
    expect(p.type).toBe("trade");

    sandbox.clock.advance(DAY - 1000);
    const token2 = (await adapter.refresh(tokens.refreshToken)).accessToken;
    const stillPending = await adapter.transactions(token2, hash, lastYear(sandbox.clock.ms));
    expect(stillPending.find((t) => t.providerTransactionId === p.providerTransactionId)?.status).toBe("pending");

    sandbox.clock.advance(1000);
    const second = await adapter.transactions(token2, hash, lastYear(sandbox.clock.ms));
    expect(second.some((t) => t.providerTransactionId === p.providerTransactionId)).toBe(false);
    const posted = second.filter((t) => t.status === "posted" && t.date.getTime() === p.date.getTime());
    expect(posted).toHaveLength(1);
    const q = posted[0] as ProviderTransaction;
    expect(q.providerTransactionId).not.toBe(p.providerTransactionId);
    expect({ amount: q.amount, symbol: q.symbol, quantity: q.quantity, price: q.price }).toEqual({
      amount: p.amount,
      symbol: p.symbol,
      quantity: p.quantity,
      price: p.price,
    });
    expect(q.raw.orderId).toBe(p.raw.orderId);
  });

  it("sums exactly: the cash effect of a year is a clean decimal", async () => {
    const { adapter, tokens, margin } = await defaultHistory();
    const txs = await adapter.transactions(tokens.accessToken, margin.providerAccountId, lastYear(T0));
    const total = txs.reduce((sum, t) => decimalAdd(sum, t.amount), "0");
    expect(total).toMatch(/^-?\d+(\.\d{1,2})?$/);
  });
});
