/**
 * Net worth over time (pure), from the balance history: at each interval end, each account's
 * last known balance, carried forward (and said to be) when it is from an earlier day. Sums are
 * per currency and never across currencies. An asset adds its balance; a liability (credit
 * card, loan) adds its balance in its provider's sign, negative when owed, so
 * `net = assets + liabilities` (docs/contract.md "Balances, net worth and reconciliation").
 */
import type { z } from "zod";
import { LIABILITY_KINDS, type NET_WORTH_INTERVALS, type NetWorth as NetWorthSchema } from "../../wire/data";
import { decimalFromUnits, decimalScale, decimalToUnits, isDecimal } from "../money";

export type NetWorthInterval = (typeof NET_WORTH_INTERVALS)[number];
export type NetWorthView = z.infer<typeof NetWorthSchema>;

/** The most interval ends one answer holds (3 years of days, 21 of weeks). */
export const MAX_INTERVAL_ENDS = 1100;

const DAY_MS = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const msOf = (day: string) => Date.parse(`${day}T00:00:00Z`);

/**
 * The last day of every interval that ends in [from, to], then `to` itself if it is not one:
 * days; weeks ending on Sunday (ISO 8601 weeks run Monday to Sunday); calendar months.
 */
export function intervalEnds(from: string, to: string, interval: NetWorthInterval): string[] {
  const ends: string[] = [];
  const last = msOf(to);
  let at = msOf(from);
  if (interval === "week") at += ((7 - new Date(at).getUTCDay()) % 7) * DAY_MS;
  if (interval === "month") {
    const d = new Date(at);
    at = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0);
  }
  while (at <= last && ends.length <= MAX_INTERVAL_ENDS) {
    ends.push(dayOf(at));
    if (interval === "day") at += DAY_MS;
    else if (interval === "week") at += 7 * DAY_MS;
    else {
      const d = new Date(at);
      at = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 2, 0);
    }
  }
  if (ends.at(-1) !== to) ends.push(to);
  return ends;
}

/** An account as net worth sees it. */
export interface WorthAccount {
  id: string;
  kind: string;
  currency: string;
}

/** One balance of an account on one day (current, as reported). */
export interface WorthPoint {
  day: string;
  current: string | null;
}

const LIABILITIES = new Set<string>(LIABILITY_KINDS);

/** The points that carry a balance (a day the provider gave none, or no decimal, adds nothing). */
const withBalance = (points: readonly WorthPoint[] = []) =>
  points.filter((p) => p.current !== null && isDecimal(p.current));

/**
 * The series, from each account's points in day order (its last one before `from` first).
 * Each currency's balances become integers at one scale (the most decimals any has), and walking
 * the ends in order keeps running totals that change only where an account's point does: a
 * daily series costs one exact addition per point, not a decimal sum per account per day.
 */
export function netWorth(
  accounts: WorthAccount[],
  history: ReadonlyMap<string, readonly WorthPoint[]>,
  query: { from: string; to: string; interval: NetWorthInterval },
): NetWorthView {
  const ends = intervalEnds(query.from, query.to, query.interval);
  const currencies = [...new Set(accounts.map((a) => a.currency))].sort();
  const out: NetWorthView["currencies"] = [];
  for (const currency of currencies) {
    const members = accounts
      .filter((a) => a.currency === currency)
      .map((a) => ({
        liability: LIABILITIES.has(a.kind),
        series: withBalance(history.get(a.id)),
        at: -1,
        units: [0n],
      }));
    let scale = 0;
    for (const m of members) for (const p of m.series) scale = Math.max(scale, decimalScale(p.current as string));
    for (const m of members) m.units = m.series.map((p) => decimalToUnits(p.current as string, scale));
    let assets = 0n;
    let liabilities = 0n;
    let known = 0;
    const series: NetWorthView["currencies"][number]["points"] = [];
    for (const end of ends) {
      let carried = false;
      for (const m of members) {
        const before = m.at;
        while (m.at + 1 < m.series.length && (m.series[m.at + 1] as WorthPoint).day <= end) m.at++;
        if (m.at < 0) continue;
        if (m.at !== before) {
          let delta = m.units[m.at] as bigint;
          if (before < 0) known++;
          else delta -= m.units[before] as bigint;
          if (m.liability) liabilities += delta;
          else assets += delta;
        }
        if ((m.series[m.at] as WorthPoint).day !== end) carried = true;
      }
      if (known === 0) continue;
      series.push({
        date: end,
        assets: decimalFromUnits(assets, scale),
        liabilities: decimalFromUnits(liabilities, scale),
        net: decimalFromUnits(assets + liabilities, scale),
        accounts: known,
        carried_forward: carried,
      });
    }
    if (series.length) out.push({ currency, points: series });
  }
  return { from: query.from, to: query.to, interval: query.interval, currencies: out };
}
