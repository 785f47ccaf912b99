/**
 * Schwab Trader API wire formats (docs/providers/schwab.md) and their mapping to normalized
 * types. Schemas list only what we use: unknown fields are dropped, optional ones may be absent,
 * numbers may be integral. Real traffic wins over the spec where they differ.
 */
import { z } from "zod";
import { decimalAdd, decimalDiv, decimalFromNumber, decimalIsZero, decimalMul, decimalSub } from "../home/money";
import type { ProviderAccount, ProviderHolding, ProviderTransaction } from "./types";

/** All 15 transaction types; Schwab requires `types` and accepts them comma-listed. */
export const SCHWAB_TRANSACTION_TYPES = [
  "TRADE",
  "RECEIVE_AND_DELIVER",
  "DIVIDEND_OR_INTEREST",
  "ACH_RECEIPT",
  "ACH_DISBURSEMENT",
  "CASH_RECEIPT",
  "CASH_DISBURSEMENT",
  "ELECTRONIC_FUND",
  "WIRE_OUT",
  "WIRE_IN",
  "JOURNAL",
  "MEMORANDUM",
  "MARGIN_CALL",
  "MONEY_MARKET",
  "SMA_ADJUSTMENT",
] as const;

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2}))?$/;

/**
 * Parses Schwab timestamps to UTC: `2025-01-14T05:15:12+0000` (real traffic: offset without a
 * colon), `2024-03-28T21:10:42.000Z`, `+05:30` offsets, or a bare date (midnight UTC). Returns
 * null for anything else, including impossible dates and times without an offset.
 */
export function parseSchwabDate(text: string): Date | null {
  const m = ISO.exec(text);
  if (!m) return null;
  const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "", zone = "Z"] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as number[];
  const ms = Number(frac.padEnd(3, "0").slice(0, 3));
  const utc = Date.UTC(year as number, (month as number) - 1, day, hour, minute, second, ms);
  const check = new Date(utc);
  // Date.UTC rolls 2025-02-30 over to March; refuse instead of guessing.
  if (check.getUTCMonth() !== (month as number) - 1 || check.getUTCDate() !== day || (hour as number) > 23) {
    return null;
  }
  if ((minute as number) > 59 || (second as number) > 59) return null;
  if (zone === "Z") return check;
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  if (Number(digits.slice(2)) > 59) return null;
  return new Date(utc - sign * offsetMin * 60_000);
}

const money = z.number();
const schwabDate = z.string().transform((s, ctx) => {
  const d = parseSchwabDate(s);
  if (!d) {
    ctx.addIssue({ code: "custom", message: "not a recognized timestamp" });
    return z.NEVER;
  }
  return d;
});
// int64 ids: keep them exact or refuse them (a rounded id could merge two transactions).
const int64Id = z.union([
  z.number().refine(Number.isSafeInteger, "id is not a safe integer").transform(String),
  z.string().regex(/^\d{1,19}$/),
]);

/** Token endpoint success (both grants). */
export const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().optional(),
  expires_in: z.union([z.number().int().positive(), z.string().regex(/^\d+$/).transform(Number)]),
  token_type: z
    .string()
    .refine((t) => t.toLowerCase() === "bearer", "token_type is not Bearer")
    .optional(),
  scope: z.string().optional(),
});

/** GET /trader/v1/accounts/accountNumbers */
export const AccountNumbersSchema = z.array(
  z.object({ accountNumber: z.string().min(1), hashValue: z.string().min(1) }),
);

const InstrumentSchema = z.object({
  assetType: z.string(),
  cusip: z.string().optional(),
  symbol: z.string().optional(),
  description: z.string().optional(),
  instrumentId: z.union([z.number(), z.string()]).optional(),
  type: z.string().optional(),
});

const PositionSchema = z.object({
  longQuantity: money.optional(),
  shortQuantity: money.optional(),
  marketValue: money.optional(),
  instrument: InstrumentSchema,
});

const BalancesSchema = z.object({
  liquidationValue: money.optional(),
  cashBalance: money.optional(),
  totalCash: money.optional(),
});

/** GET /trader/v1/accounts?fields=positions */
export const AccountsSchema = z.array(
  z.object({
    securitiesAccount: z.object({
      type: z.string(),
      accountNumber: z.string().min(1),
      positions: z.array(PositionSchema).optional(),
      currentBalances: BalancesSchema.optional(),
    }),
    aggregatedBalance: z
      .object({ liquidationValue: money.optional(), currentLiquidationValue: money.optional() })
      .optional(),
  }),
);

const TransferItemSchema = z.object({
  instrument: z.object({ assetType: z.string().optional(), symbol: z.string().optional() }).optional(),
  amount: money.optional(),
  price: money.optional(),
});

const TransactionSchema = z
  .object({
    activityId: int64Id,
    time: schwabDate.optional(),
    tradeDate: schwabDate.optional(),
    description: z.string().optional(),
    type: z.string(),
    status: z.string(),
    subAccount: z.string().optional(),
    activityType: z.string().optional(),
    orderId: z.union([z.number(), z.string()]).optional(),
    netAmount: money,
    transferItems: z.array(TransferItemSchema).optional(),
  })
  .refine((t) => t.time ?? t.tradeDate, "transaction has neither time nor tradeDate");

/** GET /trader/v1/accounts/{hash}/transactions */
export const TransactionsSchema = z.array(TransactionSchema);

type SchwabAccount = z.infer<typeof AccountsSchema>[number];
type SchwabPosition = z.infer<typeof PositionSchema>;
type SchwabTransaction = z.infer<typeof TransactionSchema>;

const dec = (n: number | undefined): string | null => (n === undefined ? null : decimalFromNumber(n));
const title = (s: string) =>
  s
    .toLowerCase()
    .replace(/_/g, " ")
    .replace(/^\w/, (c) => c.toUpperCase());

/** "••••1234": the last four characters only (docs/providers/schwab.md: mask plain numbers in our API). */
export function maskAccountNumber(accountNumber: string): string {
  return accountNumber.length > 4 ? `••••${accountNumber.slice(-4)}` : "••••";
}

function assetTypeOf(instrument: SchwabPosition["instrument"]): string {
  if (instrument.assetType === "COLLECTIVE_INVESTMENT" && instrument.type === "EXCHANGE_TRADED_FUND") return "etf";
  return instrument.assetType.toLowerCase();
}

function holdingIdOf(instrument: SchwabPosition["instrument"], index: number): string {
  if (instrument.cusip) return `cusip:${instrument.cusip}`;
  if (instrument.instrumentId !== undefined) return `id:${instrument.instrumentId}`;
  if (instrument.symbol) return `symbol:${instrument.symbol}`;
  return `position:${instrument.assetType}:${index}`;
}

/** Price per unit from market value; options quote per share of a 100-share contract. */
function priceOf(assetType: string, quantity: string, marketValue: string | null): string | null {
  if (marketValue === null || decimalIsZero(quantity)) return null;
  const units = assetType === "option" ? decimalMul(quantity, "100") : quantity;
  return decimalDiv(marketValue, units, 6);
}

function mapHoldings(positions: SchwabPosition[]): ProviderHolding[] {
  const byId = new Map<string, ProviderHolding>();
  positions.forEach((p, index) => {
    const assetType = assetTypeOf(p.instrument);
    const id = holdingIdOf(p.instrument, index);
    const quantity = decimalSub(dec(p.longQuantity) ?? "0", dec(p.shortQuantity) ?? "0");
    const marketValue = dec(p.marketValue);
    const prior = byId.get(id);
    // One instrument listed twice (e.g. per sub-account) is one holding: add the parts.
    const q = prior ? decimalAdd(prior.quantity, quantity) : quantity;
    const mv =
      prior && (prior.marketValue !== null || marketValue !== null)
        ? decimalAdd(prior.marketValue ?? "0", marketValue ?? "0")
        : marketValue;
    byId.set(id, {
      providerHoldingId: id,
      symbol: p.instrument.symbol ?? null,
      name: p.instrument.description ?? p.instrument.symbol ?? null,
      assetType,
      quantity: q,
      price: priceOf(assetType, q, mv),
      marketValue: mv,
      currency: "USD",
    });
  });
  return [...byId.values()];
}

/** Maps one `/accounts` entry; `hashValue` comes from `/accounts/accountNumbers`. */
export function mapAccount(entry: SchwabAccount, hashValue: string, asOf: Date): ProviderAccount {
  const acct = entry.securitiesAccount;
  const balances = acct.currentBalances ?? {};
  const agg = entry.aggregatedBalance;
  const isMargin = acct.type === "MARGIN";
  const current = balances.liquidationValue ?? agg?.liquidationValue ?? agg?.currentLiquidationValue;
  // Margin accounts report cash as cashBalance; cash accounts as totalCash (spec).
  const available = isMargin
    ? (balances.cashBalance ?? balances.totalCash)
    : (balances.totalCash ?? balances.cashBalance);
  const masked = maskAccountNumber(acct.accountNumber);
  return {
    providerAccountId: hashValue,
    accountNumberMasked: masked,
    name: `Schwab ${title(acct.type)} ${masked}`,
    type: acct.type.toLowerCase(),
    kind: "brokerage",
    currency: "USD",
    balances: { current: dec(current), available: dec(available), asOf },
    holdings: mapHoldings(acct.positions ?? []),
  };
}

/** Maps one transaction, or null for those Schwab marks INVALID (never happened). */
export function mapTransaction(t: SchwabTransaction): ProviderTransaction | null {
  if (t.status === "INVALID") return null;
  const security = (t.transferItems ?? []).find((i) => i.instrument && i.instrument.assetType !== "CURRENCY");
  const symbol = security?.instrument?.symbol ?? null;
  return {
    providerTransactionId: t.activityId,
    // VALID is posted; PENDING, UNKNOWN and anything new stay pending until Schwab says VALID.
    status: t.status === "VALID" ? "posted" : "pending",
    type: t.type.toLowerCase(),
    description: t.description ?? (symbol ? `${title(t.type)} ${symbol}` : title(t.type)),
    amount: decimalFromNumber(t.netAmount),
    currency: "USD",
    symbol,
    quantity: dec(security?.amount),
    price: dec(security?.price),
    date: (t.time ?? t.tradeDate) as Date,
    raw: {
      type: t.type,
      status: t.status,
      activityType: t.activityType ?? null,
      subAccount: t.subAccount ?? null,
      orderId: t.orderId === undefined ? null : String(t.orderId),
    },
  };
}
