/**
 * GoCardless Bank Account Data v2 wire formats (docs/providers/gocardless.md). Only what we read;
 * unknown fields are dropped, optional ones may be absent or null, day counts may be strings.
 */
import { z } from "zod";
import { decimalAdd, isDecimal } from "../../home/money";

const optText = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);
/** An integer that may arrive as a string ("90"). */
const count = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]);

/** A signed decimal string as banks send it (`-12.30`, `+5`, ` 3.1 `), normalized (`-12.3`, `5`). */
export const amountText = z.string().transform((s, ctx) => {
  const v = s.trim().replace(/^\+/, "");
  if (!isDecimal(v)) {
    ctx.addIssue({ code: "custom", message: "not a decimal amount" });
    return z.NEVER;
  }
  return decimalAdd(v, "0");
});

/** POST /token/new/ */
export const TokenNewSchema = z.object({
  access: z.string().min(1),
  access_expires: count,
  refresh: z.string().min(1),
  refresh_expires: count,
});

/** POST /token/refresh/ */
export const TokenRefreshSchema = z.object({ access: z.string().min(1), access_expires: count });

/** One institution. */
export const InstitutionSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  bic: optText,
  transaction_total_days: count.nullish(),
  max_access_valid_for_days: count.nullish(),
  countries: z.array(z.string()).default([]),
  logo: optText,
});
export const InstitutionsSchema = z.array(InstitutionSchema);

/** An end-user agreement. */
export const AgreementSchema = z.object({
  id: z.string().min(1),
  created: optText,
  institution_id: optText,
  max_historical_days: count,
  access_valid_for_days: count,
  access_scope: z.array(z.string()).default([]),
  accepted: z.string().nullish(),
});

/** A requisition. */
export const RequisitionSchema = z.object({
  id: z.string().min(1),
  status: z.string(),
  link: optText,
  accounts: z.array(z.string()).default([]),
  agreement: z.string().nullish(),
  reference: z.string().nullish(),
  institution_id: optText,
});

/** GET /accounts/{id}/ (metadata; not limited by the bank's quota). */
export const AccountMetaSchema = z.object({
  id: z.string().optional(),
  iban: z.string().nullish(),
  status: optText,
  institution_id: optText,
});

/** GET /accounts/{id}/details/ */
export const DetailsSchema = z.object({
  account: z
    .object({
      iban: optText,
      bban: optText,
      currency: optText,
      name: optText,
      displayName: optText,
      product: optText,
      cashAccountType: optText,
      maskedPan: optText,
    })
    .optional(),
});

/** GET /accounts/{id}/balances/ */
export const BalancesSchema = z.object({
  balances: z
    .array(
      z.object({
        balanceAmount: z.object({ amount: amountText, currency: optText }),
        balanceType: z.string(),
        referenceDate: optText,
      }),
    )
    .default([]),
});

/** One transaction: only `transactionAmount` is required. */
export const TransactionSchema = z.object({
  transactionId: optText,
  internalTransactionId: optText,
  entryReference: optText,
  bookingDate: optText,
  bookingDateTime: optText,
  valueDate: optText,
  valueDateTime: optText,
  transactionAmount: z.object({ amount: amountText, currency: optText }),
  creditorName: optText,
  debtorName: optText,
  remittanceInformationUnstructured: optText,
  remittanceInformationUnstructuredArray: z.array(z.string()).nullish(),
  remittanceInformationStructured: optText,
  additionalInformation: optText,
  bankTransactionCode: optText,
  proprietaryBankTransactionCode: optText,
});
export type GcTransaction = z.infer<typeof TransactionSchema>;

/** GET /accounts/{id}/transactions/ */
export const TransactionsSchema = z.object({
  transactions: z.object({
    booked: z.array(TransactionSchema).default([]),
    pending: z.array(TransactionSchema).nullish(),
  }),
});
