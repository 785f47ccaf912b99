/** Wire formatting shared by the sandbox's data builders (docs/providers/schwab.md "Real captures"). */

/** Schwab's real timestamp form: `2025-01-14T05:15:12+0000` (no milliseconds, offset without colon). */
export function schwabTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}+0000`;
}

/** Integer cents as the JSON number Schwab would send (`1234.5`, `70`, `-0.01`). */
export function dollars(cents: number): number {
  return cents / 100;
}

/** Integer thousandths of a share as a JSON number (`12.5`). */
export function shares(milli: number): number {
  return milli / 1000;
}

/** The USD "currency instrument" Schwab uses for fee and cash transfer items. */
export function currencyInstrument() {
  return {
    assetType: "CURRENCY",
    status: "ACTIVE",
    symbol: "CURRENCY_USD",
    description: "USD currency",
    instrumentId: 1,
    closingPrice: 0,
  };
}
