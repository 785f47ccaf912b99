/**
 * Money over time, shaped for the API from what the user's home answered: one account's daily
 * balances and the net worth series (src/home/ledger/history.ts, net-worth.ts).
 */
import { invalidField, notFound } from "../../errors";
import { intervalEnds, MAX_INTERVAL_ENDS, type NetWorthInterval } from "../../home/ledger/net-worth";
import type { HomeRead, ReadOf } from "../../home/ledger/reads";
import { decodeDayCursor } from "../../home/ledger/views";

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A `YYYY-MM-DD` bound, or the UTC day of an RFC 3339 timestamp; 422 when that day leaves the
 * years 0000–9999 (`9999-12-31T23:00:00-05:00` is in 10000), which no day string can name.
 */
function dayOf(value: string, field: string): string {
  if (value.length === 10) return value;
  const iso = new Date(value).toISOString();
  const day = iso.startsWith("+") || iso.startsWith("-") ? "" : iso.slice(0, 10);
  if (!DAY.test(day)) throw invalidField(field, "is outside the years 0000 to 9999 in UTC");
  return day;
}

function days(q: { from?: string | undefined; to?: string | undefined }) {
  const from = q.from === undefined ? undefined : dayOf(q.from, "query.from");
  const to = q.to === undefined ? undefined : dayOf(q.to, "query.to");
  if (from !== undefined && to !== undefined && from > to) throw invalidField("query.from", "must not be after `to`");
  return { from, to };
}

/** The read for one account's daily balances, oldest first, in [from, to], pages of `limit`. */
export function balancesRead(
  accountId: string,
  q: { from?: string | undefined; to?: string | undefined; limit: number; cursor?: string | undefined },
): Extract<HomeRead, { kind: "balances" }> {
  const afterDay = q.cursor === undefined ? undefined : decodeDayCursor(q.cursor);
  if (afterDay === null) {
    throw invalidField("query.cursor", "is not a valid cursor", "The cursor is not one this API issued.");
  }
  return { kind: "balances", accountId, ...days(q), afterDay, limit: q.limit };
}

export function balancesPage(answer: ReadOf<"balances">) {
  if (!answer.found) throw notFound("account");
  return answer.page;
}

const FIRST_DAY_MS = Date.parse("0000-01-01T00:00:00Z");

/** Defaults: the last 90 days up to today (UTC). */
export const NET_WORTH_DEFAULT_DAYS = 90;

/** The read for the net worth series; 422 when the range is backwards or holds too many intervals. */
export function netWorthRead(
  q: { from?: string | undefined; to?: string | undefined; interval: NetWorthInterval },
  now: Date,
): Extract<HomeRead, { kind: "netWorth" }> {
  const given = days(q);
  const to = given.to ?? now.toISOString().slice(0, 10);
  // The default start, kept within the years a day string can name.
  const start = Math.max(Date.parse(`${to}T00:00:00Z`) - NET_WORTH_DEFAULT_DAYS * 86_400_000, FIRST_DAY_MS);
  const from = given.from ?? new Date(start).toISOString().slice(0, 10);
  if (from > to) throw invalidField("query.from", "must not be after `to`");
  if (intervalEnds(from, to, q.interval).length > MAX_INTERVAL_ENDS) {
    throw invalidField(
      "query.interval",
      `gives more than ${MAX_INTERVAL_ENDS} points for this range: use a longer interval or a shorter range`,
    );
  }
  return { kind: "netWorth", from, to, interval: q.interval };
}

export const netWorthPage = (answer: ReadOf<"netWorth">) => answer.page;
