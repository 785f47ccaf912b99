/**
 * What a simulated login's accounts hold: an EUR current account (with an IBAN) and a GBP credit
 * card (no IBAN, a masked PAN; its "bank" ignores the date window). Everything derives from the
 * login seed, so the same login gets the same IBAN and data through any number of requisitions.
 */
import { type BankTimeline, bankView, centsText, hexOf, iban } from "../shared/bank-ledger";
import { utcDate } from "../shared/util";
import type { AccountClaims } from "./context";

/** The static facts of one simulated account. */
export interface SimAccountSpec {
  index: number;
  currency: string;
  iban: string | null;
  maskedPan: string | null;
  name: string;
  product: string;
  cashAccountType: string;
  ownerName: string;
  shape: "deposit" | "card";
  /** The bank returns every row whatever the window (facts: "some banks ignore the window"). */
  ignoresWindow: boolean;
}

const digits = (seed: string, n: number) =>
  hexOf(seed, n * 2)
    .replace(/[a-f]/g, (c) => String(c.charCodeAt(0) - 97))
    .slice(0, n);

/** The accounts of a login. */
export function simAccounts(login: string): SimAccountSpec[] {
  return [
    {
      index: 0,
      currency: "EUR",
      iban: iban("DE", `${digits(`${login}|blz`, 8)}${digits(`${login}|kto`, 10)}`),
      maskedPan: null,
      name: "Main Account",
      product: "Girokonto",
      cashAccountType: "CACC",
      ownerName: "Alex Sandbox",
      shape: "deposit",
      ignoresWindow: false,
    },
    {
      index: 1,
      currency: "GBP",
      iban: null,
      maskedPan: `492942******${digits(`${login}|pan`, 4)}`,
      name: "Credit Card",
      product: "Platinum Card",
      cashAccountType: "CARD",
      ownerName: "Alex Sandbox",
      shape: "card",
      ignoresWindow: true,
    },
  ];
}

/** The timeline of one account id. */
export function timelineOf(
  claims: AccountClaims,
  spec: SimAccountSpec,
  ctx: { postDelayMs: number; historyDays: number },
): BankTimeline {
  return {
    seed: `${claims.l}|${spec.index}`,
    shape: spec.shape,
    anchor: claims.c,
    historyDays: ctx.historyDays,
    postDelayMs: ctx.postDelayMs,
    twins: claims.x === "missing_ids",
    drift: claims.x === "drift",
  };
}

const offsetTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}+00:00`;

/** `/transactions/` body for `[from, to]` (dates, inclusive) as of `now`. */
export function transactionsJson(
  claims: AccountClaims,
  spec: SimAccountSpec,
  timeline: BankTimeline,
  now: number,
  window: { from: string | null; to: string | null },
) {
  const view = bankView(timeline, now);
  const inWindow = (date: string) =>
    spec.ignoresWindow || ((window.from === null || date >= window.from) && (window.to === null || date <= window.to));
  const party = (amountCents: number, name: string) =>
    amountCents < 0 ? { creditorName: name } : { debtorName: name };
  const remittance = (text: string) =>
    spec.shape === "card"
      ? { remittanceInformationUnstructuredArray: [text] }
      : { remittanceInformationUnstructured: text };
  const withoutIds = claims.x === "missing_ids";
  const booked = view.booked
    .filter((e) => inWindow(utcDate(e.postAt)))
    .reverse()
    .map((e) => {
      const key = `${claims.l}|${spec.index}|${e.day}|${e.twin}`;
      return {
        ...(withoutIds
          ? {}
          : {
              transactionId: hexOf(`${key}|bank`, 16).toUpperCase(),
              internalTransactionId: hexOf(`${key}|internal`, 32),
              entryReference: `ER${hexOf(`${key}|entry`, 10).toUpperCase()}`,
            }),
        bookingDate: utcDate(e.postAt),
        valueDate: utcDate(e.at),
        bookingDateTime: offsetTime(e.postAt),
        transactionAmount: { amount: centsText(e.amountCents), currency: spec.currency },
        ...party(e.amountCents, e.counterparty),
        ...remittance(e.remittance),
        bankTransactionCode: e.code,
      };
    });
  // Pending rows carry no ids and no bookingDate, as many banks send them.
  const pending = view.pending
    .filter((e) => inWindow(utcDate(e.at)))
    .reverse()
    .map((e) => ({
      valueDate: utcDate(e.at),
      transactionAmount: { amount: centsText(e.amountCents), currency: spec.currency },
      ...party(e.amountCents, e.counterparty),
      ...remittance(e.remittance),
    }));
  return { transactions: { booked, pending }, last_updated: new Date(now).toISOString() };
}

/** `/balances/` body: closingBooked (booked only) and interimAvailable (with pending). */
export function balancesJson(spec: SimAccountSpec, timeline: BankTimeline, now: number) {
  const view = bankView(timeline, now);
  const entry = (cents: number, balanceType: string) => ({
    balanceAmount: { amount: centsText(cents), currency: spec.currency },
    balanceType,
    referenceDate: utcDate(now),
  });
  return { balances: [entry(view.bookedCents, "closingBooked"), entry(view.availableCents, "interimAvailable")] };
}

/** `/details/` body. */
export function detailsJson(spec: SimAccountSpec) {
  return {
    account: {
      resourceId: hexOf(`${spec.iban ?? spec.maskedPan}|resource`, 24),
      ...(spec.iban ? { iban: spec.iban } : {}),
      ...(spec.maskedPan ? { maskedPan: spec.maskedPan } : {}),
      currency: spec.currency,
      ownerName: spec.ownerName,
      name: spec.name,
      product: spec.product,
      cashAccountType: spec.cashAccountType,
    },
  };
}
