/**
 * A deterministic bank account timeline for the bank simulators (GoCardless, SimpleFIN), derived
 * from a seed and revealed by the clock:
 *
 * - one event a day: history for `historyDays` before the anchor (the link time), then one a
 *   day after it, visible once `now` reaches it;
 * - every event is pending from `at` and books `postDelayMs` later (default a day), when the
 *   providers show it again under a new id (a pending row never turns into its booked row);
 * - the booked balance is always `openingCents + Σ amounts booked up to now`, minus the hidden
 *   fees of the `drift` scenario (one a day from the second day on, never listed);
 * - `twins` (GoCardless `missing_ids`): every fifth day carries a second, identical event.
 *
 * Amounts are integer cents; the same seed always yields the same events.
 */
import { Prng } from "../../sandbox/random";
import { DAY, HOUR } from "./util";

/** Deposit accounts earn a salary and spend; card accounts spend and are paid off monthly. */
export type BankAccountShape = "deposit" | "card";

/** One event of an account's timeline. */
export interface BankEvent {
  /** Day index relative to the anchor (≤ 0: history). */
  day: number;
  /** 0, or 1 for the identical twin. */
  twin: number;
  /** When it happened (pending from then), epoch ms. */
  at: number;
  /** When it books, epoch ms. */
  postAt: number;
  amountCents: number;
  counterparty: string;
  remittance: string;
  /** ISO 20022 bank transaction code (domain-family-subfamily). */
  code: string;
}

/** What shapes a timeline. */
export interface BankTimeline {
  seed: string;
  shape: BankAccountShape;
  /** The link time: history ends here. */
  anchor: number;
  historyDays: number;
  postDelayMs: number;
  twins?: boolean;
  /** `drift`: a hidden fee a day from the second day on. */
  drift?: boolean;
}

const MERCHANTS = [
  ["REWE Markt", "Groceries", "PMNT-CCRD-POSD"],
  ["Deutsche Bahn", "Train ticket", "PMNT-CCRD-POSD"],
  ["Spotify AB", "Subscription", "PMNT-CCRD-POSD"],
  ["Shell Station 0420", "Fuel", "PMNT-CCRD-POSD"],
  ["Amazon EU Sarl", "Order", "PMNT-CCRD-POSD"],
  ["Stadtwerke", "Electricity bill", "PMNT-IDDT-ESDD"],
  ["Cafe Central", "Coffee", "PMNT-CCRD-POSD"],
] as const;

/** The opening balance in cents, before the first history event. */
export function openingCents(t: Pick<BankTimeline, "seed" | "shape">): number {
  const rng = new Prng(`${t.seed}|opening`);
  return t.shape === "deposit" ? rng.int(300_000, 800_000) : -rng.int(20_000, 80_000);
}

function event(t: BankTimeline, day: number): BankEvent {
  const rng = new Prng(`${t.seed}|day|${day}`);
  // Between 2 and 6 hours before the anchor's time of day, on whole seconds.
  const at = Math.floor((t.anchor + day * DAY - 2 * HOUR - rng.int(0, 4 * 3600) * 1000) / 1000) * 1000;
  const base = { day, twin: 0, at, postAt: at + t.postDelayMs };
  const monthly = ((day % 30) + 30) % 30 === 0;
  if (t.shape === "deposit" && monthly) {
    return {
      ...base,
      amountCents: rng.int(250_000, 350_000),
      counterparty: "ACME GmbH",
      remittance: `Salary ${day}`,
      code: "PMNT-RCDT-SALA",
    };
  }
  if (t.shape === "card" && monthly) {
    return {
      ...base,
      amountCents: rng.int(30_000, 60_000),
      counterparty: "Card payment",
      remittance: "PAYMENT THANK YOU",
      code: "PMNT-RCDT-ESCT",
    };
  }
  const [counterparty, remittance, code] = rng.pick(MERCHANTS);
  return {
    ...base,
    amountCents: -rng.int(150, 12_000),
    counterparty,
    remittance: `${remittance} ${rng.int(1000, 9999)}`,
    code,
  };
}

/** Every event that has happened by `now` (pending or booked), oldest first. */
export function bankEvents(t: BankTimeline, now: number): BankEvent[] {
  const out: BankEvent[] = [];
  // Bounded: a broken anchor (NaN) must not spin forever.
  for (let day = -(t.historyDays - 1); day < 100_000; day++) {
    const e = event(t, day);
    if (e.at > now) break;
    out.push(e);
    if (t.twins && ((day % 5) + 5) % 5 === 0 && e.amountCents < 0) {
      // Identical in every field a bank shows; one minute later, so the same booking day.
      out.push({ ...e, twin: 1, at: e.at + 60_000, postAt: e.postAt + 60_000 });
    }
  }
  return out;
}

/** The hidden fees of `drift` up to `now`, in cents (negative). */
export function hiddenCents(t: BankTimeline, now: number): number {
  if (!t.drift || now < t.anchor + DAY) return 0;
  return -250 * Math.floor((now - t.anchor) / DAY);
}

/** The account as of `now`: booked and pending events and the two balances. */
export function bankView(t: BankTimeline, now: number) {
  const events = bankEvents(t, now);
  const booked = events.filter((e) => e.postAt <= now);
  const pending = events.filter((e) => e.postAt > now);
  const bookedCents = openingCents(t) + booked.reduce((s, e) => s + e.amountCents, 0) + hiddenCents(t, now);
  const availableCents = bookedCents + pending.reduce((s, e) => s + e.amountCents, 0);
  return { booked, pending, bookedCents, availableCents };
}

/** Integer cents as a two-decimal string (`-12.30`), as banks send amounts. */
export function centsText(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** Deterministic lower-case hex from a seed. */
export function hexOf(seed: string, n: number): string {
  return new Prng(seed).hex(n).toLowerCase();
}

/** An IBAN with valid check digits (ISO 13616 mod 97) for a country and its BBAN. */
export function iban(country: string, bban: string): string {
  const digits = `${bban}${country}00`.replace(/[A-Z]/g, (ch) => String(ch.charCodeAt(0) - 55));
  const check = 98n - (BigInt(digits) % 97n);
  return `${country}${String(check).padStart(2, "0")}${bban}`;
}
