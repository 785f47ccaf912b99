/**
 * A simulated Alpaca login's account, positions and activities, per environment, derived from the
 * login seed. Cash is always the opening cash plus the cash effect of every non-canceled activity
 * up to now (a FILL moves −price×qty on a buy, +price×qty on a sell), but in `drift`.
 */
import { decimalAdd, decimalMul, decimalNeg } from "../../../home/money";
import { Prng } from "../../sandbox/random";
import { centsText } from "../shared/bank-ledger";
import { DAY } from "../shared/util";
import type { AlpacaContext, AlpacaSimEnv, TokenClaims } from "./context";

const STOCKS = [
  { symbol: "AAPL", priceCents: 19_850 },
  { symbol: "SPY", priceCents: 58_210 },
  { symbol: "MSFT", priceCents: 41_530 },
  { symbol: "TSLA", priceCents: 31_275 },
];

const uuid = (rng: Prng) => {
  const h = rng.hex(32).toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** One activity: its time (ms), wire JSON, cash effect and whether it counts. */
export interface SimActivity {
  at: number;
  id: string;
  json: Record<string, unknown>;
  cash: string;
}

const stamp = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:TZ.]/g, "")
    .slice(0, 17);

function activity(seed: string, index: number, at: number): SimActivity {
  const rng = new Prng(`${seed}|activity|${index}`);
  const id = `${stamp(at)}::${uuid(rng)}`;
  const roll = rng.next();
  const stock = rng.pick(STOCKS);
  if (roll < 0.7) {
    const buy = rng.chance(0.6);
    const qty = rng.chance(0.2) ? (rng.int(1, 999) / 1000).toFixed(3).replace(/0+$/, "") : String(rng.int(1, 20));
    const price = centsText(Math.round(stock.priceCents * (0.85 + rng.next() * 0.3)));
    const gross = decimalMul(price, qty);
    return {
      at,
      id,
      cash: buy ? decimalNeg(gross) : gross,
      json: {
        id,
        activity_type: "FILL",
        transaction_time: new Date(at).toISOString(),
        type: "fill",
        price,
        qty,
        side: buy ? "buy" : "sell",
        symbol: stock.symbol,
        leaves_qty: "0",
        order_id: uuid(rng),
        cum_qty: qty,
        order_status: "filled",
      },
    };
  }
  const kind = roll < 0.85 ? "DIV" : roll < 0.93 ? "CSD" : roll < 0.97 ? "FEE" : "REBATE";
  const cents = kind === "DIV" ? rng.int(50, 5_000) : kind === "CSD" ? rng.int(10_000, 200_000) : -rng.int(1, 300);
  const net = centsText(cents);
  const json: Record<string, unknown> = {
    id,
    activity_type: kind,
    ...(kind === "DIV"
      ? { activity_sub_type: "CDIV", symbol: stock.symbol, qty: String(rng.int(1, 50)), per_share_amount: "0.24" }
      : {}),
    ...(kind === "FEE" ? { activity_sub_type: "REG" } : {}),
    date: new Date(at).toISOString().slice(0, 10),
    net_amount: net,
    description: kind === "DIV" ? `Cash DIV @ 0.24` : kind === "CSD" ? "ACH deposit" : "",
    status: "executed",
    created_at: new Date(at).toISOString(),
  };
  return { at, id, cash: net, json };
}

/** Every activity of a login's account in one environment that exists at `now`, oldest first. */
export function activities(claims: TokenClaims, env: AlpacaSimEnv, ctx: AlpacaContext, now: number): SimActivity[] {
  const seed = `${claims.l}|${env}`;
  const out: SimActivity[] = [];
  const n = ctx.historyActivities;
  const span = 360 * DAY;
  for (let i = 0; i < n; i++) {
    const at = Math.floor((claims.at - span + (i * span) / Math.max(1, n) + 3_600_000) / 1000) * 1000;
    out.push(activity(seed, i, at));
  }
  // A canceled dividend: listed, but it never moved cash.
  const canceledAt = Math.floor((claims.at - 40 * DAY) / 1000) * 1000;
  const canceledId = `${stamp(canceledAt)}::${uuid(new Prng(`${seed}|canceled`))}`;
  out.push({
    at: canceledAt,
    id: canceledId,
    cash: "0",
    json: {
      id: canceledId,
      activity_type: "DIV",
      activity_sub_type: "CDIV",
      symbol: "AAPL",
      qty: "10",
      per_share_amount: "0.321",
      date: new Date(canceledAt).toISOString().slice(0, 10),
      net_amount: "3.21",
      description: "Cash DIV @ 0.321",
      status: "canceled",
      created_at: new Date(canceledAt).toISOString(),
    },
  });
  for (let k = 1; k < 100_000; k++) {
    const at = claims.at + k * ctx.newActivityIntervalMs;
    if (at > now) break;
    out.push(activity(seed, n + k, at));
  }
  return out.filter((a) => a.at <= now).sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
}

/** The positions (fixed per login) with their market values. */
export function positions(claims: TokenClaims, env: AlpacaSimEnv) {
  const rng = new Prng(`${claims.l}|${env}|positions`);
  const row = (symbol: string, assetClass: string, qty: string, priceCents: number) => {
    const price = centsText(priceCents);
    const mv = decimalMul(price, qty);
    const cost = decimalMul(centsText(Math.round(priceCents * 0.95)), qty);
    return {
      asset_id: uuid(new Prng(`asset|${symbol}`)),
      symbol,
      exchange: assetClass === "crypto" ? "CRYPTO" : "NASDAQ",
      asset_class: assetClass,
      asset_marginable: assetClass !== "crypto",
      avg_entry_price: centsText(Math.round(priceCents * 0.95)),
      qty,
      qty_available: qty,
      side: qty.startsWith("-") ? "short" : "long",
      market_value: mv,
      cost_basis: cost,
      unrealized_pl: decimalAdd(mv, decimalNeg(cost)),
      unrealized_plpc: "0.0526",
      unrealized_intraday_pl: "0",
      unrealized_intraday_plpc: "0",
      current_price: price,
      lastday_price: price,
      change_today: "0",
    };
  };
  return [
    row("AAPL", "us_equity", `${rng.int(5, 40)}.5`, 19_850),
    row("SPY", "us_equity", String(rng.int(2, 20)), 58_210),
    row("TSLA", "us_equity", `-${rng.int(1, 5)}`, 31_275),
    row("BTCUSD", "crypto", "0.123456789", 6_512_345),
  ];
}

/** GET /v2/account for a login and environment at `now`. */
export function accountJson(claims: TokenClaims, env: AlpacaSimEnv, ctx: AlpacaContext, now: number) {
  const rng = new Prng(`${claims.l}|${env}|account`);
  const opening = centsText(rng.int(2_000_000, 9_000_000));
  let cash = activities(claims, env, ctx, now).reduce((s, a) => decimalAdd(s, a.cash), opening);
  if (claims.x === "drift" && now >= claims.at + DAY) {
    // Cash moves without an activity: a dollar a day from the second day on.
    cash = decimalAdd(cash, `-${Math.floor((now - claims.at) / DAY)}`);
  }
  const pos = positions(claims, env);
  const long = pos.filter((p) => p.side === "long").reduce((s, p) => decimalAdd(s, p.market_value), "0");
  const short = pos.filter((p) => p.side === "short").reduce((s, p) => decimalAdd(s, p.market_value), "0");
  const equity = decimalAdd(decimalAdd(cash, long), short);
  const number = env === "paper" ? `PA${rng.hex(10)}` : String(rng.int(100_000_000, 999_999_999));
  return {
    id: uuid(rng),
    account_number: number,
    status: "ACTIVE",
    crypto_status: "ACTIVE",
    currency: "USD",
    buying_power: decimalMul(cash, "2"),
    regt_buying_power: decimalMul(cash, "2"),
    non_marginable_buying_power: cash,
    options_buying_power: cash,
    cash,
    portfolio_value: equity,
    equity,
    last_equity: equity,
    long_market_value: long,
    short_market_value: short,
    position_market_value: decimalAdd(long, decimalNeg(short)),
    initial_margin: "0",
    maintenance_margin: "0",
    last_maintenance_margin: "0",
    sma: "0",
    multiplier: "2",
    accrued_fees: "0",
    pending_transfer_in: "0",
    balance_asof: new Date(now - DAY).toISOString().slice(0, 10),
    trading_blocked: false,
    transfers_blocked: false,
    account_blocked: false,
    trade_suspended_by_user: false,
    shorting_enabled: true,
    daytrade_count: 0,
    options_approved_level: 1,
    options_trading_level: 1,
    crypto_tier: 1,
    bod_dtbp: 0,
    user_configurations: null,
    created_at: new Date(claims.at - 400 * DAY).toISOString(),
  };
}
