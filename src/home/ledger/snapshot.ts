/**
 * What a provider answered, in the shapes the ledger plans against (./plan.ts): the provider
 * adapters (src/providers/) produce them. Money and quantities are exact decimal strings
 * (../money.ts); timestamps are UTC `Date`s.
 */

import type { ACCOUNT_KINDS } from "../../wire/data";

/** Normalized account class; credit cards and loans are liabilities (docs/contract.md). */
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/** Normalized account balances; decimal strings, null when the provider gave none. */
export interface ProviderBalances {
  /** In the provider's own sign convention (docs/providers/<provider>.md says which). */
  current: string | null;
  available: string | null;
  /** Brokerage accounts: the cash balance (reconciliation compares it with the cash flows). */
  cash?: string | null;
  asOf: Date;
}

/** One position in an account. */
export interface ProviderHolding {
  /** Stable across syncs: derived from CUSIP, instrument id or symbol. */
  providerHoldingId: string;
  symbol: string | null;
  name: string | null;
  /** Lower-case asset class: equity, etf, option, mutual_fund, fixed_income, cash_equivalent, ... */
  assetType: string;
  /** Signed: negative for short positions. */
  quantity: string;
  /** Per-unit price derived from market value, or null when it cannot be derived. */
  price: string | null;
  marketValue: string | null;
  currency: string;
}

/** One account with balances and holdings. */
export interface ProviderAccount {
  /**
   * The provider's opaque account reference, stable across relinks where the provider allows it
   * (Schwab: the hashValue; GoCardless: `iban:` + SHA-256 of the IBAN). Pass it to `transactions`.
   */
  providerAccountId: string;
  /** Last four digits only, e.g. "••••1234"; the full number never leaves the adapter. */
  accountNumberMasked: string;
  name: string;
  /** The provider's own lower-case account type, e.g. "margin", "cash", "cacc". */
  type: string;
  /** Normalized class; `credit_card` and `loan` are liabilities. */
  kind: AccountKind;
  currency: string;
  balances: ProviderBalances;
  holdings: ProviderHolding[];
}

/** One transaction, pending or posted. */
export interface ProviderTransaction {
  /** The provider's stable id (Schwab: activityId as a string). */
  providerTransactionId: string;
  status: "pending" | "posted";
  /** Lower-case provider type, e.g. "trade", "dividend_or_interest". */
  type: string;
  description: string;
  /** Signed cash effect on the account. */
  amount: string;
  currency: string;
  symbol: string | null;
  /** Signed security quantity (negative for a sell), when a security moved. */
  quantity: string | null;
  price: string | null;
  date: Date;
  /**
   * Provider details kept for reconciliation and debugging (never shown raw to clients). Schwab:
   * type, status, activityType, subAccount, orderId. Never account numbers or IBANs.
   */
  raw: Readonly<Record<string, string | null>>;
}
