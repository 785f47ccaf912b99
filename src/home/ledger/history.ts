/**
 * Reads of the balance history (the sync writes it, ./store.ts `apply`): one account's daily
 * points, and what net worth is computed from (./net-worth.ts).
 */

import type { NetWorthInterval, WorthAccount, WorthPoint } from "./net-worth";
import { BALANCE_HISTORY, type BalancePoint } from "./rows";

type Rec = Record<string, SqlStorageValue>;

export class BalanceHistory {
  constructor(private readonly sql: SqlStorage) {}

  /** One account's points in [from, to] (days), oldest first, after `afterDay`; at most `limit`. */
  page(
    accountId: string,
    f: { from?: string | undefined; to?: string | undefined; afterDay?: string | undefined; limit: number },
  ): BalancePoint[] {
    const where = ["account_id = ?"];
    const params: SqlStorageValue[] = [accountId];
    for (const [sql, value] of [
      ["day >= ?", f.from],
      ["day <= ?", f.to],
      ["day > ?", f.afterDay],
    ] as const) {
      if (value === undefined) continue;
      where.push(sql);
      params.push(value);
    }
    return this.sql
      .exec<Rec>(`SELECT * FROM balance_history WHERE ${where.join(" AND ")} ORDER BY day LIMIT ?`, ...params, f.limit)
      .toArray()
      .map((r) => BALANCE_HISTORY.read(r));
  }

  /**
   * Every account with the points net worth needs for [from, to]: each account's last one before
   * it (carried forward to the first interval ends), and those inside it; for weeks and months
   * only the last of each account's week or month, the one its interval end reads. An account
   * synced before the history existed answers its stored balance on its `as_of` day.
   */
  worthInputs(
    from: string,
    to: string,
    interval: NetWorthInterval,
  ): { accounts: WorthAccount[]; history: Map<string, WorthPoint[]> } {
    const accounts = this.sql
      .exec<{ id: string; kind: string; currency: string; balance_current: string | null; balances_as_of: number }>(
        "SELECT id, kind, currency, balance_current, balances_as_of FROM accounts",
      )
      .toArray();
    const history = new Map<string, WorthPoint[]>();
    // Rows in primary-key order (account, day), so each account's list is in day order unsorted.
    const keep = (rows: Iterable<SqlStorageValue[]>) => {
      for (const [id, day, current] of rows) {
        const point = { day: day as string, current: current as string | null };
        const list = history.get(id as string);
        if (list) list.push(point);
        else history.set(id as string, [point]);
      }
    };
    // SQLite answers a bare column of an aggregate query with MAX() from the row holding the
    // maximum (https://sqlite.org/lang_select.html#bareagg): `current` is that day's balance.
    keep(
      this.sql
        .exec(
          "SELECT account_id, MAX(day), current FROM balance_history WHERE day < ? GROUP BY account_id ORDER BY account_id",
          from,
        )
        .raw(),
    );
    keep(
      this.sql
        .exec(
          interval === "day"
            ? "SELECT account_id, day, current FROM balance_history WHERE day BETWEEN ? AND ? ORDER BY account_id, day"
            : `SELECT account_id, MAX(day), current FROM balance_history WHERE day BETWEEN ? AND ?
               GROUP BY account_id, ${BUCKET[interval]} ORDER BY account_id, MAX(day)`,
          from,
          to,
        )
        .raw(),
    );
    // An account with no point up to `to` (synced before the history existed) answers its stored
    // balance on its `as_of` day; one whose points all lie after `to` has that day after `to` too.
    for (const a of accounts) {
      if (history.has(a.id)) continue;
      const day = new Date(a.balances_as_of).toISOString().slice(0, 10);
      if (day <= to) history.set(a.id, [{ day, current: a.balance_current }]);
    }
    return { accounts: accounts.map((a) => ({ id: a.id, kind: a.kind, currency: a.currency })), history };
  }
}

/**
 * Groups of days that each lie within one interval, so the last point of a group is the one an
 * interval end reads: calendar months; weeks counted from Monday 1970-01-05 (ISO weeks run
 * Monday to Sunday; julianday 2440591.5).
 */
const BUCKET = {
  week: "CAST((julianday(day) - 2440591.5) / 7 AS INTEGER)",
  month: "substr(day, 1, 7)",
} as const;
