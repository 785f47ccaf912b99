/**
 * Deterministic sandbox accounts and positions: derived from the login seed alone, so the same
 * login always sees the same account numbers, hashes, positions and balances. Amounts are integer
 * cents internally and become JSON numbers only on the wire, as Schwab sends them.
 */
import { dollars, shares } from "./format";
import { Prng } from "./random";
import type { Grant } from "./tokens";

interface InstrumentSpec {
  symbol: string;
  assetType: string;
  cusip: string;
  description?: string;
  type?: string;
  putCall?: "PUT" | "CALL";
  underlyingSymbol?: string;
  /** Base price in cents, varied per login. */
  basePriceCents: number;
  multiplier?: number;
}

/** One position: signed quantity in thousandths of a share, price per share in cents. */
export interface SandboxPosition {
  instrument: InstrumentSpec;
  instrumentId: number;
  quantityMilli: number;
  priceCents: number;
  averagePriceCents: number;
}

/** One simulated account; `index` 0 is the margin account, 1 the cash account. */
export interface SandboxAccount {
  index: number;
  type: "MARGIN" | "CASH";
  accountNumber: string;
  hashValue: string;
  cashCents: number;
  positions: SandboxPosition[];
  /** Symbols traded in this account's history, with their per-login prices. */
  tradable: { symbol: string; assetType: string; priceCents: number; cusip: string; type?: string }[];
}

const AAPL: InstrumentSpec = { symbol: "AAPL", assetType: "EQUITY", cusip: "037833100", basePriceCents: 19_850 };
const TSLA: InstrumentSpec = { symbol: "TSLA", assetType: "EQUITY", cusip: "88160R101", basePriceCents: 31_275 };
const MSFT: InstrumentSpec = { symbol: "MSFT", assetType: "EQUITY", cusip: "594918104", basePriceCents: 41_530 };
const SPY: InstrumentSpec = {
  symbol: "SPY",
  assetType: "COLLECTIVE_INVESTMENT",
  type: "EXCHANGE_TRADED_FUND",
  cusip: "78462F103",
  description: "SPDR S&P 500 ETF",
  basePriceCents: 58_210,
};
const VTI: InstrumentSpec = {
  symbol: "VTI",
  assetType: "COLLECTIVE_INVESTMENT",
  type: "EXCHANGE_TRADED_FUND",
  cusip: "922908769",
  description: "VANGUARD TOTAL STOCK MARKET ETF",
  basePriceCents: 28_745,
};
const META_PUT: InstrumentSpec = {
  // OCC symbol: root padded to 6, yymmdd, P/C, strike × 1000 padded to 8 (docs/providers/schwab.md).
  symbol: "META  250131P00510000",
  assetType: "OPTION",
  cusip: "0META.MV50510000",
  description: "META PLATFORMS INC 01/31/2025 $510 Put",
  putCall: "PUT",
  underlyingSymbol: "META",
  basePriceCents: 735,
  multiplier: 100,
};
const SWVXX: InstrumentSpec = {
  symbol: "SWVXX",
  assetType: "MUTUAL_FUND",
  cusip: "808515878",
  description: "SCHWAB VALUE ADVANTAGE MONEY INV",
  basePriceCents: 100,
};

function position(rng: Prng, instrument: InstrumentSpec, quantityMilli: number): SandboxPosition {
  const vary = (cents: number) => Math.max(1, Math.round(cents * (0.9 + rng.next() * 0.2)));
  return {
    instrument,
    instrumentId: rng.int(1_000_000, 2_000_000_000),
    quantityMilli,
    priceCents: vary(instrument.basePriceCents),
    averagePriceCents: vary(instrument.basePriceCents),
  };
}

/** The login's accounts: none for `empty`, otherwise one MARGIN and one CASH account. */
export function sandboxAccounts(grant: Grant): SandboxAccount[] {
  if (grant.scenario === "empty") return [];
  const rng = new Prng(`accounts|${grant.login}`);
  const number = () => String(rng.int(10_000_000, 99_999_999));
  const margin: SandboxAccount = {
    index: 0,
    type: "MARGIN",
    accountNumber: number(),
    hashValue: rng.hex(64),
    cashCents: rng.int(100_000, 5_000_000),
    positions: [
      // A fractional long, an ETF, a long put and a short: the shapes adapters get wrong.
      position(rng, AAPL, rng.int(10, 200) * 1000 + (rng.chance(0.5) ? 500 : 0)),
      position(rng, SPY, rng.int(5, 50) * 1000),
      position(rng, META_PUT, rng.int(1, 5) * 1000),
      position(rng, TSLA, -rng.int(5, 20) * 1000),
    ],
    tradable: [],
  };
  const cash: SandboxAccount = {
    index: 1,
    type: "CASH",
    accountNumber: number(),
    hashValue: rng.hex(64),
    cashCents: rng.int(10_000, 2_000_000),
    positions: [
      position(rng, MSFT, rng.int(1, 50) * 1000 + 250),
      position(rng, VTI, rng.int(10, 80) * 1000),
      position(rng, SWVXX, rng.int(1_000, 20_000) * 1000),
    ],
    tradable: [],
  };
  for (const acct of [margin, cash]) {
    acct.tradable = acct.positions
      .filter((p) => p.instrument.assetType === "EQUITY" || p.instrument.assetType === "COLLECTIVE_INVESTMENT")
      .map((p) => ({
        symbol: p.instrument.symbol,
        assetType: p.instrument.assetType,
        priceCents: p.priceCents,
        cusip: p.instrument.cusip,
        type: p.instrument.type,
      }));
  }
  return [margin, cash];
}

/** Market value in cents (negative for shorts), rounded like a statement. */
export function marketValueCents(p: SandboxPosition): number {
  return Math.round((p.quantityMilli * p.priceCents * (p.instrument.multiplier ?? 1)) / 1000);
}

function positionJson(p: SandboxPosition) {
  const long = p.quantityMilli > 0;
  const qty = shares(Math.abs(p.quantityMilli));
  const mv = marketValueCents(p);
  const costCents = Math.round((p.quantityMilli * p.averagePriceCents * (p.instrument.multiplier ?? 1)) / 1000);
  const i = p.instrument;
  return {
    shortQuantity: long ? 0 : qty,
    averagePrice: dollars(p.averagePriceCents),
    currentDayProfitLoss: dollars(Math.round(mv * 0.004)),
    currentDayProfitLossPercentage: 0.4,
    longQuantity: long ? qty : 0,
    settledLongQuantity: long ? qty : 0,
    // Real data: negative for shorts (docs/providers/schwab.md).
    settledShortQuantity: long ? 0 : -qty,
    instrument: {
      assetType: i.assetType,
      cusip: i.cusip,
      symbol: i.symbol,
      // Equities often arrive without a description (docs/providers/schwab.md).
      ...(i.description ? { description: i.description } : {}),
      ...(i.assetType === "OPTION" ? {} : { instrumentId: p.instrumentId }),
      netChange: dollars(Math.round(p.priceCents * 0.004)),
      ...(i.type ? { type: i.type } : {}),
      ...(i.putCall ? { putCall: i.putCall, underlyingSymbol: i.underlyingSymbol } : {}),
    },
    marketValue: dollars(mv),
    maintenanceRequirement: dollars(Math.abs(Math.round(mv * 0.3))),
    ...(long
      ? { averageLongPrice: dollars(p.averagePriceCents), longOpenProfitLoss: dollars(mv - costCents) }
      : { averageShortPrice: dollars(p.averagePriceCents), shortOpenProfitLoss: dollars(costCents - mv) }),
    previousSessionLongQuantity: long ? qty : 0,
    currentDayCost: 0,
  };
}

function balancesJson(acct: SandboxAccount) {
  const values = acct.positions.map(marketValueCents);
  const longCents = values.filter((v) => v > 0).reduce((a, b) => a + b, 0);
  const shortCents = values.filter((v) => v < 0).reduce((a, b) => a + b, 0);
  const liquidationCents = acct.cashCents + longCents + shortCents;
  if (acct.type === "MARGIN") {
    return {
      liquidationCents,
      current: {
        accruedInterest: 0,
        cashBalance: dollars(acct.cashCents),
        cashReceipts: 0,
        longOptionMarketValue: dollars(values[2] ?? 0),
        liquidationValue: dollars(liquidationCents),
        longMarketValue: dollars(longCents),
        moneyMarketFund: 0,
        savings: 0,
        shortMarketValue: dollars(shortCents),
        pendingDeposits: 0,
        mutualFundValue: 0,
        bondValue: 0,
        shortOptionMarketValue: 0,
        availableFunds: dollars(acct.cashCents),
        buyingPower: dollars(acct.cashCents * 2),
        dayTradingBuyingPower: dollars(acct.cashCents * 4),
        equity: dollars(liquidationCents),
        equityPercentage: 100,
        longMarginValue: dollars(longCents),
        maintenanceCall: 0,
        maintenanceRequirement: dollars(Math.round(longCents * 0.3)),
        marginBalance: 0,
        regTCall: 0,
        shortBalance: dollars(-shortCents),
        shortMarginValue: dollars(-shortCents),
        sma: 70,
        // A boolean in real traffic, a number in the spec (docs/providers/schwab.md).
        isInCall: false,
      },
    };
  }
  // Cash accounts report cash as totalCash (spec) and carry no cashBalance.
  return {
    liquidationCents,
    current: {
      accruedInterest: 0,
      cashAvailableForTrading: dollars(acct.cashCents),
      cashAvailableForWithdrawal: dollars(acct.cashCents),
      cashCall: 0,
      longNonMarginableMarketValue: dollars(longCents),
      totalCash: dollars(acct.cashCents),
      cashDebitCallValue: 0,
      unsettledCash: 0,
      liquidationValue: dollars(liquidationCents),
      longMarketValue: dollars(longCents),
      mutualFundValue: dollars(values[2] ?? 0),
      savings: 0,
    },
  };
}

/** `/accounts/accountNumbers` body. */
export function accountNumbersJson(accounts: SandboxAccount[]) {
  return accounts.map((a) => ({ accountNumber: a.accountNumber, hashValue: a.hashValue }));
}

/** One `/accounts` entry; positions only when asked for (`fields=positions`). */
export function accountJson(acct: SandboxAccount, withPositions: boolean) {
  const { liquidationCents, current } = balancesJson(acct);
  return {
    securitiesAccount: {
      type: acct.type,
      accountNumber: acct.accountNumber,
      roundTrips: 0,
      isDayTrader: false,
      isClosingOnlyRestricted: false,
      pfcbFlag: false,
      ...(withPositions ? { positions: acct.positions.map(positionJson) } : {}),
      initialBalances: {
        accruedInterest: 0,
        cashBalance: dollars(acct.cashCents),
        liquidationValue: dollars(liquidationCents),
        accountValue: dollars(liquidationCents),
        isInCall: false,
      },
      currentBalances: current,
      projectedBalances: {
        availableFunds: dollars(acct.cashCents),
        buyingPower: dollars(acct.type === "MARGIN" ? acct.cashCents * 2 : acct.cashCents),
        isInCall: false,
      },
    },
    // Real, but not in the spec (docs/providers/schwab.md).
    aggregatedBalance: {
      currentLiquidationValue: dollars(liquidationCents),
      liquidationValue: dollars(liquidationCents),
    },
  };
}
