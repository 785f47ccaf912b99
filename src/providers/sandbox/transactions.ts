/**
 * Deterministic sandbox transaction timeline of one account, anchored at the login's first-login
 * time (`loginAt`) and revealed by the clock:
 *
 * - history: N items spread over the 360 days before loginAt (N = 10,000 for `large`'s margin
 *   account, otherwise 120 margin / 80 cash), plus one INVALID (cancelled) item;
 * - new items: one per `newTransactionIntervalMs` after loginAt, visible once `now` reaches them;
 * - `pending_to_posted`: a PENDING trade 2 h before loginAt that, once `now >= loginAt +
 *   pendingPostDelayMs`, is replaced by a VALID trade under a new activityId.
 *
 * Everything derives from (login, account, index), so the same login sees the same items.
 */
import type { SandboxAccount } from "./data";
import { currencyInstrument, dollars, schwabTime, shares } from "./format";
import { hash32, Prng } from "./random";
import type { Grant } from "./tokens";

/** Clock-driven knobs; see SandboxOptions. */
export interface TimelineSettings {
  newTransactionIntervalMs: number;
  pendingPostDelayMs: number;
}

/** One item: its time (epoch ms) for filtering, and its wire JSON. */
export interface SandboxTransaction {
  at: number;
  json: Record<string, unknown>;
}

const DAY = 86_400_000;
const HISTORY_SPAN = 360 * DAY;
// activityId offsets inside an account's id block (ids are ~11 digits, like Schwab's).
const INVALID_OFFSET = 400_000;
const FUTURE_OFFSET = 500_000;
const PENDING_OFFSET = 900_000;
const MAX_FUTURE = 100_000;

interface ItemContext {
  grant: Grant;
  acct: SandboxAccount;
  rng: Prng;
  at: number;
  activityId: number;
}

function base(ctx: ItemContext, type: string, netCents: number, extra: Record<string, unknown> = {}) {
  return {
    activityId: ctx.activityId,
    time: schwabTime(ctx.at),
    accountNumber: ctx.acct.accountNumber,
    type,
    status: "VALID",
    subAccount: ctx.acct.type === "MARGIN" ? "MARGIN" : "CASH",
    netAmount: dollars(netCents),
    ...extra,
  };
}

function cashItem(amountCents: number, feeType?: string) {
  return {
    instrument: currencyInstrument(),
    amount: dollars(amountCents),
    cost: dollars(amountCents),
    ...(feeType ? { feeType } : {}),
  };
}

function trade(ctx: ItemContext, forceBuy?: { symbolIndex: number; quantityMilli: number }) {
  const { rng, acct } = ctx;
  const sec = acct.tradable[
    forceBuy?.symbolIndex ?? rng.int(0, acct.tradable.length - 1)
  ] as SandboxAccount["tradable"][number];
  const buy = forceBuy ? true : rng.chance(0.6);
  const qtyMilli = forceBuy?.quantityMilli ?? (rng.chance(0.2) ? rng.int(1, 999) * 10 : rng.int(1, 40) * 1000);
  const priceCents = Math.max(1, Math.round(sec.priceCents * (0.85 + rng.next() * 0.3)));
  const grossCents = Math.round((qtyMilli * priceCents) / 1000);
  // Schwab charges no commission but lists it; sells also pay SEC and TAF fees.
  const fees = buy ? [0] : [rng.int(1, 5), rng.int(1, 3)];
  const feeCents = fees.reduce((a, b) => a + b, 0);
  const feeItems = buy
    ? [{ ...cashItem(0, "COMMISSION") }]
    : [cashItem(-(fees[0] as number), "SEC_FEE"), cashItem(-(fees[1] as number), "TAF_FEE")];
  // Stable across pending → posted: the order is the same, only the activity changes.
  const orderId = 1_000_000_000_000 + (hash32(`${acct.hashValue}|order|${ctx.at}|${sec.symbol}`) % 9_000_000_000);
  return base(ctx, "TRADE", buy ? -grossCents : grossCents - feeCents, {
    tradeDate: schwabTime(ctx.at),
    // settlementDate and description are often absent in real captures.
    ...(rng.chance(0.5) ? { settlementDate: schwabTime(ctx.at + DAY) } : {}),
    positionId: 2_000_000_000 + (hash32(`${ctx.acct.hashValue}|${sec.symbol}`) % 1_000_000_000),
    orderId,
    activityType: "EXECUTION",
    transferItems: [
      ...feeItems,
      {
        instrument: {
          assetType: sec.assetType,
          status: "ACTIVE",
          symbol: sec.symbol,
          cusip: sec.cusip,
          instrumentId: hash32(sec.symbol),
          closingPrice: dollars(sec.priceCents),
          ...(sec.type ? { type: sec.type } : {}),
        },
        // A sell has a negative security amount and a positive cost (cash in).
        amount: shares(buy ? qtyMilli : -qtyMilli),
        cost: dollars(buy ? -grossCents : grossCents),
        price: dollars(priceCents),
        positionEffect: buy ? "OPENING" : "CLOSING",
      },
    ],
  });
}

function cashMovement(ctx: ItemContext) {
  const { rng, acct } = ctx;
  const roll = rng.next();
  if (roll < 0.35) {
    const sym = rng.pick(acct.tradable).symbol;
    const cents = rng.int(50, 25_000);
    return base(ctx, "DIVIDEND_OR_INTEREST", cents, {
      description: `ORDINARY DIVIDEND ${sym}`,
      activityType: "TRANSFER",
      transferItems: [cashItem(cents)],
    });
  }
  if (roll < 0.55) {
    const cents = rng.int(10_000, 500_000);
    return base(ctx, "ACH_RECEIPT", cents, {
      ...(rng.chance(0.5) ? { description: "TRANSFER FROM BANK" } : {}),
      transferItems: [cashItem(cents)],
    });
  }
  if (roll < 0.7) {
    const cents = rng.int(10_000, 200_000);
    return base(ctx, "ACH_DISBURSEMENT", -cents, { transferItems: [cashItem(-cents)] });
  }
  if (roll < 0.85) {
    // Interest: charged on margin, paid on cash.
    const cents = rng.int(1, 2_500);
    const signed = acct.type === "MARGIN" ? -cents : cents;
    return base(ctx, "DIVIDEND_OR_INTEREST", signed, {
      description: acct.type === "MARGIN" ? "MARGIN INTEREST" : "SCHWAB1 INT",
      transferItems: [cashItem(signed)],
    });
  }
  // A fee booked as a journal entry, with the CURRENCY_USD fee item real data shows.
  const cents = rng.int(1, 500);
  return base(ctx, "JOURNAL", -cents, { description: "ADR FEE", transferItems: [cashItem(-cents, "ADR_FEE")] });
}

function item(ctx: ItemContext) {
  return ctx.rng.chance(0.55) ? trade(ctx) : cashMovement(ctx);
}

/** Every item of the account visible at `now` (epoch ms), newest first. */
export function accountTransactions(
  grant: Grant,
  acct: SandboxAccount,
  now: number,
  settings: TimelineSettings,
): SandboxTransaction[] {
  const idBase = 10_000_000_000 + (hash32(`${grant.login}|${acct.index}|ids`) % 80_000) * 1_000_000;
  const make = (key: string, at: number, offset: number, build: (c: ItemContext) => Record<string, unknown>) => {
    const rng = new Prng(`${grant.login}|${acct.index}|${key}`);
    const activityId = idBase + offset;
    return { at, json: build({ grant, acct, rng, at, activityId }) };
  };
  const out: SandboxTransaction[] = [];
  const la = grant.loginAt;

  const n = grant.scenario === "large" && acct.index === 0 ? 10_000 : acct.index === 0 ? 120 : 80;
  const step = HISTORY_SPAN / n;
  for (let i = 0; i < n; i++) {
    const jitter = new Prng(`${grant.login}|${acct.index}|t|${i}`).next() * step * 0.5;
    // Whole seconds, like Schwab's timestamps.
    const at = Math.floor((la - 3_600_000 - i * step - jitter) / 1000) * 1000;
    out.push(make(`h|${i}`, at, i, item));
  }
  out.push(
    make("invalid", Math.floor((la - 100 * DAY) / 1000) * 1000, INVALID_OFFSET, (c) => ({
      ...trade(c),
      status: "INVALID",
    })),
  );

  const interval = settings.newTransactionIntervalMs;
  for (let k = 0; k < MAX_FUTURE; k++) {
    const at = la + (k + 1) * interval + acct.index * Math.floor(interval / 2);
    if (at > now) break;
    out.push(make(`f|${k}`, at, FUTURE_OFFSET + k, item));
  }

  if (grant.scenario === "pending_to_posted" && acct.index === 0) {
    const at = Math.floor((la - 2 * 3_600_000) / 1000) * 1000;
    const posted = now >= la + settings.pendingPostDelayMs;
    const build = (c: ItemContext) => {
      const t = trade(c, { symbolIndex: 0, quantityMilli: 3000 });
      const { settlementDate: _drop, ...rest } = t as Record<string, unknown>;
      // Only status (and a missing settlementDate) tells pending from posted (docs/providers/schwab.md).
      return posted ? { ...rest, settlementDate: schwabTime(at + DAY) } : { ...rest, status: "PENDING" };
    };
    // Same seed for both versions, so amount and symbol match; the id changes when it posts.
    const rng = new Prng(`${grant.login}|${acct.index}|pending`);
    const activityId = idBase + PENDING_OFFSET + (posted ? 1 : 0);
    out.push({ at, json: build({ grant, acct, rng, at, activityId }) });
  }

  return out.filter((t) => t.at <= now).sort((a, b) => b.at - a.at);
}
