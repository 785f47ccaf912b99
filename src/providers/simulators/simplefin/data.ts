/**
 * A simulated SimpleFIN login's accounts: a USD checking account and a credit card, each at its
 * own bank connection (plus a brokerage account with holdings under `holdings`). Derived from the
 * login seed; transactions come from the shared bank ledger, anchored at the claim.
 */
import { bankView, centsText, hexOf } from "../shared/bank-ledger";
import type { AccessClaims, SimpleFinContext } from "./context";

/** One simulated account. */
export interface SfAccountSpec {
  index: number;
  id: string;
  name: string;
  shape: "deposit" | "card" | "brokerage";
  conn: { id: string; name: string; domain: string; orgId: string };
}

const CONNECTIONS = [
  { name: "Simple Bank", domain: "simplebank.example" },
  { name: "Example Card Co", domain: "cards.example" },
  { name: "Example Brokerage", domain: "broker.example" },
];

/** The accounts of a login. */
export function sfAccounts(claims: Pick<AccessClaims, "l" | "x">): SfAccountSpec[] {
  const conn = (i: number) => {
    const c = CONNECTIONS[i] as (typeof CONNECTIONS)[number];
    return { id: `CON-${hexOf(`${claims.l}|conn|${i}`, 16)}`, orgId: `ORG-${hexOf(c.domain, 12)}`, ...c };
  };
  const list: SfAccountSpec[] = [
    {
      index: 0,
      id: `ACT-${hexOf(`${claims.l}|acct|0`, 24)}`,
      name: "Everyday Checking",
      shape: "deposit",
      conn: conn(0),
    },
    { index: 1, id: `ACT-${hexOf(`${claims.l}|acct|1`, 24)}`, name: "Rewards Visa Card", shape: "card", conn: conn(1) },
  ];
  if (claims.x === "holdings") {
    list.push({
      index: 2,
      id: `ACT-${hexOf(`${claims.l}|acct|2`, 24)}`,
      name: "Individual Brokerage",
      shape: "brokerage",
      conn: conn(2),
    });
  }
  return list;
}

const HOLDINGS = [
  { symbol: "VTI", description: "Vanguard Total Stock Market ETF", sharesMilli: 12_500, priceCents: 28_745 },
  { symbol: "AAPL", description: "Apple Inc.", sharesMilli: 3_000, priceCents: 19_850 },
];

const milliText = (m: number) => (m / 1000).toFixed(3).replace(/\.?0+$/, "");
const sec = (ms: number) => Math.floor(ms / 1000);

/** One account's JSON for a request window `[startMs, endMs)`. */
export function accountJson(
  spec: SfAccountSpec,
  claims: AccessClaims,
  ctx: SimpleFinContext,
  q: { startMs: number; endMs: number; pending: boolean; balancesOnly: boolean; v2: boolean },
) {
  const now = ctx.now();
  const head = {
    ...(q.v2
      ? { conn_id: spec.conn.id }
      : {
          org: {
            domain: spec.conn.domain,
            name: spec.conn.name,
            "sfin-url": "https://beta-bridge.simplefin.org/simplefin",
            url: `https://${spec.conn.domain}`,
            id: spec.conn.orgId,
          },
        }),
    id: spec.id,
    name: spec.name,
    currency: "USD",
  };
  if (spec.shape === "brokerage") {
    const holdings = HOLDINGS.map((h) => {
      const mv = Math.round((h.sharesMilli * h.priceCents) / 1000);
      return {
        id: `HOL-${hexOf(`${claims.l}|${h.symbol}`, 16)}`,
        created: sec(claims.c),
        currency: "USD",
        symbol: h.symbol,
        description: h.description,
        shares: milliText(h.sharesMilli),
        purchase_price: centsText(Math.round(h.priceCents * 0.9)),
        cost_basis: centsText(Math.round(mv * 0.9)),
        market_value: centsText(mv),
      };
    });
    const total = holdings.reduce((s, h) => s + Math.round(Number(h.market_value) * 100), 0);
    return {
      ...head,
      balance: centsText(total),
      "balance-date": sec(now),
      holdings,
      ...(q.balancesOnly ? {} : { transactions: [] }),
    };
  }
  const view = bankView(
    {
      seed: `${claims.l}|${spec.index}`,
      shape: spec.shape,
      anchor: claims.c,
      historyDays: ctx.historyDays,
      postDelayMs: ctx.postDelayMs,
      drift: claims.x === "drift",
    },
    now,
  );
  const body = {
    ...head,
    balance: centsText(view.bookedCents),
    // Omitted when equal to the balance (SimpleFIN spec).
    ...(view.availableCents !== view.bookedCents ? { "available-balance": centsText(view.availableCents) } : {}),
    "balance-date": sec(now),
  };
  if (q.balancesOnly) return body;
  const inWindow = (ms: number) => ms >= q.startMs && ms < q.endMs;
  const key = (day: number) => `${claims.l}|${spec.index}|${day}`;
  const posted = view.booked
    .filter((e) => inWindow(e.postAt))
    .map((e) => ({
      id: `TRN-${hexOf(`${key(e.day)}|posted`, 24)}`,
      posted: sec(e.postAt),
      amount: centsText(e.amountCents),
      description: e.remittance.toUpperCase(),
      transacted_at: sec(e.at),
      payee: e.counterparty,
      memo: null,
    }));
  // A pending row posts under a new id (facts: "usually comes back under a new id").
  const pending = q.pending
    ? view.pending
        .filter((e) => inWindow(e.at))
        .map((e) => ({
          id: `TRN-${hexOf(`${key(e.day)}|pending`, 24)}`,
          posted: 0,
          amount: centsText(e.amountCents),
          description: e.remittance.toUpperCase(),
          transacted_at: sec(e.at),
          pending: true,
          payee: e.counterparty,
          memo: null,
        }))
    : [];
  return { ...body, transactions: [...posted, ...pending] };
}
