/**
 * SimpleFIN wire formats, v1 and v2 (docs/providers/simplefin.md). Amounts and balances are
 * numeric strings; times are epoch seconds; unknown fields are dropped.
 */
import { z } from "zod";
import { decimalAdd, isDecimal } from "../../home/money";

/** A numeric string (or, leniently, a JSON number), normalized to a decimal string. */
export const decimalText = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const s = (typeof v === "number" ? String(v) : v).trim().replace(/^\+/, "");
  if (!isDecimal(s)) {
    ctx.addIssue({ code: "custom", message: "not a decimal" });
    return z.NEVER;
  }
  return decimalAdd(s, "0");
});

const epoch = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\d{1,12}$/)
    .transform(Number),
]);
const optText = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

export const SfTransactionSchema = z.object({
  id: z.union([z.string().min(1), z.number().transform(String)]),
  posted: epoch.nullish(),
  amount: decimalText,
  description: optText,
  transacted_at: epoch.nullish(),
  pending: z.boolean().nullish(),
  payee: optText,
  memo: optText,
});
export type SfTransaction = z.infer<typeof SfTransactionSchema>;

export const SfHoldingSchema = z.object({
  id: z.union([z.string().min(1), z.number().transform(String)]),
  currency: optText,
  symbol: optText,
  description: optText,
  shares: decimalText.nullish(),
  market_value: decimalText.nullish(),
});

export const SfAccountSchema = z.object({
  id: z.union([z.string().min(1), z.number().transform(String)]),
  name: z.string().default(""),
  conn_id: optText,
  org: z.object({ name: optText, domain: optText }).nullish(),
  currency: z.string().default("USD"),
  balance: decimalText,
  "available-balance": decimalText.nullish(),
  "balance-date": epoch.nullish(),
  transactions: z.array(SfTransactionSchema).nullish(),
  holdings: z.array(SfHoldingSchema).nullish(),
  extra: z.record(z.string(), z.unknown()).nullish(),
});
export type SfAccount = z.infer<typeof SfAccountSchema>;

/** GET /accounts, v1 or v2. */
export const AccountSetSchema = z.object({
  errors: z.array(z.string()).nullish(),
  errlist: z
    .array(
      z.object({
        code: z.string().default("gen"),
        msg: optText,
        message: optText,
        conn_id: optText,
        account_id: optText,
      }),
    )
    .nullish(),
  connections: z.array(z.object({ conn_id: z.string(), name: optText })).nullish(),
  accounts: z.array(SfAccountSchema).default([]),
});
export type AccountSet = z.infer<typeof AccountSetSchema>;
