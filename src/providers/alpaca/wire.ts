/**
 * Alpaca Trading API wire formats (docs/providers/alpaca.md). Decimals are strings; times are
 * RFC 3339; the spec requires little, so nearly everything is optional and extras are dropped.
 */
import { z } from "zod";
import { decimalAdd, isDecimal } from "../../home/money";

/** A decimal string (or, leniently, a JSON number), normalized. */
export const dec = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const s = (typeof v === "number" ? String(v) : v).trim().replace(/^\+/, "");
  if (!isDecimal(s)) {
    ctx.addIssue({ code: "custom", message: "not a decimal" });
    return z.NEVER;
  }
  return decimalAdd(s, "0");
});
const optText = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

/** POST /oauth/token */
export const TokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z
    .string()
    .refine((t) => t.toLowerCase() === "bearer", "token_type is not bearer")
    .optional(),
  scope: z.string().nullish(),
});

/** GET /v2/account (only id and status are required by the spec). */
export const AccountSchema = z.object({
  id: z.string().min(1),
  status: z.string(),
  account_number: optText,
  currency: optText,
  cash: dec.nullish(),
  equity: dec.nullish(),
  portfolio_value: dec.nullish(),
  buying_power: dec.nullish(),
  multiplier: z.union([z.string(), z.number()]).nullish(),
});

/** GET /v2/positions */
export const PositionsSchema = z.array(
  z.object({
    asset_id: z.string().min(1),
    symbol: z.string(),
    asset_class: optText,
    qty: dec,
    side: optText,
    market_value: dec.nullish(),
    current_price: dec.nullish(),
  }),
);

/** One row of GET /v2/account/activities: a FILL or a non-trade activity. */
export const ActivitySchema = z.object({
  id: z.string().min(1),
  activity_type: z.string(),
  activity_sub_type: optText,
  // FILL
  transaction_time: optText,
  type: optText,
  price: dec.nullish(),
  qty: dec.nullish(),
  side: optText,
  symbol: optText,
  order_id: optText,
  order_status: optText,
  // non-trade
  date: optText,
  net_amount: dec.nullish(),
  description: optText,
  status: optText,
  per_share_amount: dec.nullish(),
  group_id: optText,
  created_at: optText,
});
export type AlpacaActivity = z.infer<typeof ActivitySchema>;
export const ActivitiesSchema = z.array(ActivitySchema);
