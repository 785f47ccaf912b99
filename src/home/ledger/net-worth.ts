/**
 * Net worth over time (pure), from the balance history: at each interval end, each account's
 * last known balance, carried forward (and said to be) when it is from an earlier day. Sums are
 * per currency and never across currencies. An asset adds its balance; a liability (credit
 * card, loan) adds its balance in its provider's sign, negative when owed, so
 * `net = assets + liabilities` (docs/contract.md "Balances, net worth and reconciliation").
 */
import type { z } from "zod";
import { LIABILITY_KINDS, type NET_WORTH_INTERVALS, type NetWorth as NetWorthSchema } from "../../wire/data";
import { DecimalSum, isDecimal } from "../money";

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

/** One balance of one account on one day (current, as reported). */
export interface WorthPoint {
  accountId: string;
  day: string;
  current: string | null;
}

const LIABILITIES = new Set<string>(LIABILITY_KINDS);

/** The series; `points` sorted by account, then day, and holding each account's last point before `from`. */
export function netWorth(
  accounts: WorthAccount[],
  points: WorthPoint[],
  query: { from: string; to: string; interval: NetWorthInterval },
): NetWorthView {
  const ends = intervalEnds(query.from, query.to, query.interval);
  const byAccount = new Map<string, WorthPoint[]>();
  for (const p of points) {
    if (p.current === null || !isDecimal(p.current)) continue;
    const list = byAccount.get(p.accountId);
    if (list) list.push(p);
    else byAccount.set(p.accountId, [p]);
  }
  const currencies = [...new Set(accounts.map((a) => a.currency))].sort();
  const out: NetWorthView["currencies"] = [];
  for (const currency of currencies) {
    const members = accounts
      .filter((a) => a.currency === currency)
      .map((a) => ({ liability: LIABILITIES.has(a.kind), series: byAccount.get(a.id) ?? [], at: -1 }));
    const series: NetWorthView["currencies"][number]["points"] = [];
    for (const end of ends) {
      const assets = new DecimalSum();
      const liabilities = new DecimalSum();
      let known = 0;
      let carried = false;
      for (const m of members) {
        while (m.at + 1 < m.series.length && (m.series[m.at + 1] as WorthPoint).day <= end) m.at++;
        const p = m.series[m.at];
        if (!p) continue;
        known++;
        if (p.day !== end) carried = true;
        (m.liability ? liabilities : assets).add(p.current as string);
      }
      if (known === 0) continue;
      const a = assets.value();
      const l = liabilities.value();
      series.push({
        date: end,
        assets: a,
        liabilities: l,
        net: new DecimalSum().add(a).add(l).value(),
        accounts: known,
        carried_forward: carried,
      });
    }
    if (series.length) out.push({ currency, points: series });
  }
  return { from: query.from, to: query.to, interval: query.interval, currencies: out };
}
