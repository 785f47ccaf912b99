import { z } from "@hono/zod-openapi";

/** Account classes (src/home/ledger/snapshot.ts `AccountKind`). */
export const ACCOUNT_KINDS = ["checking", "savings", "credit_card", "loan", "brokerage", "other"] as const;
/** The classes that are owed, not owned. */
export const LIABILITY_KINDS: readonly (typeof ACCOUNT_KINDS)[number][] = ["credit_card", "loan"];

const dateTime = () => z.string().openapi({ format: "date-time" });
const money = (description: string) =>
  z.string().openapi({ description: `${description} An exact decimal string, never a float.`, example: "1234.5" });

export const IdParam = (name: string, example: string) =>
  z
    .string()
    .min(1)
    .max(100, `is not a${/^[aeiou]/.test(name) ? "n" : ""} ${name} id`)
    .openapi({ param: { name: "id", in: "path" }, example });

export const Reconciliation = z
  .object({
    status: z.enum(["ok", "drift"]).openapi({
      description:
        "`drift` when the balance changed by more (or less) than the posted transactions that arrived explain, beyond 0.01 of the currency; `ok` again once they agree. Nothing is ever changed to make them agree.",
    }),
    difference: money("The reported balance minus what the transactions explain, carried from sync to sync.").openapi({
      example: "-2.5",
    }),
    since: dateTime().nullable().openapi({ description: "When the current drift began (null while `ok`)." }),
  })
  .openapi("Reconciliation");

export const Account = z
  .object({
    id: z.string(),
    connection_id: z.string(),
    name: z.string().openapi({ example: "Schwab Margin ••••1234" }),
    type: z.enum(ACCOUNT_KINDS).openapi({
      example: "brokerage",
      description:
        "`checking`, `savings`, `brokerage` and `other` are assets; `credit_card` and `loan` are liabilities (see `classification`). Balances keep the provider's sign (docs/providers/): a card's debt is negative at GoCardless and SimpleFIN.",
    }),
    subtype: z.string().openapi({
      example: "margin",
      description: "The provider's own type, lower case (e.g. `margin`, `cacc`, `simplefin`).",
    }),
    classification: z.enum(["asset", "liability"]).openapi({
      description:
        "Whether the account holds what the person owns or what they owe (net worth adds the first and the second, in its own sign).",
    }),
    mask: z.string().openapi({ example: "••••1234", description: "Last four digits only." }),
    currency: z.string().openapi({ example: "USD" }),
    balances: z.object({
      current: money("Total value (liquidation value).").nullable(),
      available: money("Cash available.").nullable(),
      as_of: dateTime().openapi({
        description:
          "When the provider last confirmed these figures: the last successful sync, or, for an account the provider no longer lists, when they were last seen.",
      }),
    }),
    reconciliation: Reconciliation.nullable().openapi({
      description:
        "Whether the reported balance moves with the posted transactions (a brokerage account's cash, never its market value). null where the provider gives no balance to reconcile.",
    }),
    missing_since: dateTime().nullable().openapi({
      description:
        "Set when the provider stopped listing the account. Its data is kept (a provider answering with less never deletes anything); cleared if it reappears.",
    }),
    created_at: dateTime(),
    updated_at: dateTime(),
  })
  .openapi("Account");

export const Holding = z
  .object({
    id: z.string(),
    symbol: z.string().nullable(),
    name: z.string().nullable(),
    asset_type: z.string().openapi({ example: "equity" }),
    quantity: z.string().openapi({ description: "Signed: negative for a short position.", example: "12.5" }),
    price: money("Per unit (options: per share of a 100-share contract).").nullable(),
    market_value: money("Negative for a short position.").nullable(),
    currency: z.string(),
    as_of: dateTime(),
  })
  .openapi("Holding");

export const Transaction = z
  .object({
    id: z.string(),
    account_id: z.string(),
    status: z.enum(["pending", "posted"]),
    type: z.string().openapi({ example: "trade" }),
    description: z.string(),
    amount: money("Signed cash effect on the account."),
    currency: z.string(),
    symbol: z.string().nullable(),
    quantity: z.string().nullable().openapi({ description: "Signed security quantity (negative for a sell)." }),
    price: z.string().nullable(),
    date: dateTime(),
    pending_transaction_id: z.string().nullable().openapi({
      description:
        "On a posted transaction that replaced a pending one: the pending transaction's id (reported as `removed` by the change feed).",
    }),
    created_at: dateTime(),
    updated_at: dateTime(),
  })
  .openapi("Transaction");

/** A page of one account's transactions (`GET /accounts/{id}/transactions`). */
export const TransactionsPage = z.object({ transactions: z.array(Transaction), next_cursor: z.string().nullable() });

/** A page of the change feed (`GET /transactions/sync`). */
export const FeedPage = z.object({
  added: z.array(Transaction),
  modified: z.array(Transaction),
  removed: z.array(z.object({ id: z.string(), account_id: z.string() })),
  reconciliation: z.array(z.object({ account_id: z.string(), at: dateTime() }).merge(Reconciliation)).openapi({
    description:
      "Accounts whose reconciliation changed since the cursor: into `drift`, a changed drift, or back to `ok` after one.",
  }),
  next_cursor: z.string(),
  has_more: z.boolean(),
});

export const Cursor = z.string().max(500).optional();

const DATE_OR_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))?$/;

/** `YYYY-MM-DD` or an RFC 3339 timestamp; impossible dates (2025-02-30) are refused. */
export const DateBound = z
  .string()
  .regex(DATE_OR_TIME, "must be YYYY-MM-DD or an RFC 3339 timestamp")
  .refine((v) => {
    const day = v.slice(0, 10);
    const at = new Date(`${day}T00:00:00Z`);
    return !Number.isNaN(at.getTime()) && at.toISOString().startsWith(day) && !Number.isNaN(new Date(v).getTime());
  }, "is not a real date")
  .openapi({ example: "2026-01-31" });

export const BalancePoint = z
  .object({
    date: z.string().openapi({ example: "2026-12-07", description: "The UTC day of the provider's `as_of`." }),
    current: money("The balance reported that day (the last of the day), in the provider's sign.").nullable(),
    available: money("Available, as reported.").nullable(),
    cash: money("A brokerage account's cash, as reported.").nullable(),
    as_of: dateTime().openapi({ description: "When the provider stated it." }),
  })
  .openapi("BalancePoint");

export const BalancesPage = z.object({
  balances: z.array(BalancePoint),
  next_cursor: z.string().nullable(),
});

export const NET_WORTH_INTERVALS = ["day", "week", "month"] as const;

export const NetWorthPoint = z
  .object({
    date: z.string().openapi({ example: "2026-11-30", description: "The interval's last day (UTC), or `to`." }),
    assets: money("The sum of asset accounts' balances."),
    liabilities: money(
      "The sum of liability accounts' (credit cards, loans) balances, in the providers' sign: negative when owed (GoCardless, SimpleFIN).",
    ),
    net: money("assets + liabilities."),
    accounts: z.number().int().openapi({ description: "Accounts with a known balance by this date." }),
    carried_forward: z.boolean().openapi({
      description: "True when at least one account's balance here is its last known one from an earlier day.",
    }),
  })
  .openapi("NetWorthPoint");

export const NetWorth = z
  .object({
    from: z.string(),
    to: z.string(),
    interval: z.enum(NET_WORTH_INTERVALS),
    currencies: z
      .array(z.object({ currency: z.string(), points: z.array(NetWorthPoint) }))
      .openapi({ description: "One series per currency: amounts in different currencies are never added." }),
  })
  .openapi("NetWorth");
