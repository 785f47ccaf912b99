/**
 * Reads of the balance history (the sync writes it, ./store.ts `apply`): one account's daily
 * points, and what net worth is computed from (./net-worth.ts).
 */

import type { WorthAccount, WorthPoint } from "./net-worth";
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
   * Every account with the points net worth needs for [from, to]: those inside it, and each
   * account's last one before it (carried forward to the first interval ends). An account synced
   * before the history existed answers its stored balance on its `as_of` day.
   */
  worthInputs(from: string, to: string): { accounts: WorthAccount[]; points: WorthPoint[] } {
    const accounts = this.sql
      .exec<{ id: string; kind: string; currency: string; balance_current: string | null; balances_as_of: number }>(
        "SELECT id, kind, currency, balance_current, balances_as_of FROM accounts",
      )
      .toArray();
    const points = this.sql
      .exec<{ account_id: string; day: string; current: string | null }>(
        `SELECT h.account_id, h.day, h.current FROM balance_history h
         WHERE h.day <= ? AND (h.day >= ? OR h.day = (
           SELECT MAX(b.day) FROM balance_history b WHERE b.account_id = h.account_id AND b.day < ?))
         ORDER BY h.account_id, h.day`,
        to,
        from,
        from,
      )
      .toArray()
      .map((r) => ({ accountId: r.account_id, day: r.day, current: r.current }));
    const seen = new Set(points.map((p) => p.accountId));
    const withHistory = new Set(
      this.sql
        .exec<{ account_id: string }>("SELECT DISTINCT account_id FROM balance_history")
        .toArray()
        .map((r) => r.account_id),
    );
    for (const a of accounts) {
      if (seen.has(a.id) || withHistory.has(a.id)) continue;
      const day = new Date(a.balances_as_of).toISOString().slice(0, 10);
      if (day <= to) points.push({ accountId: a.id, day, current: a.balance_current });
    }
    points.sort((x, y) =>
      x.accountId === y.accountId ? x.day.localeCompare(y.day) : x.accountId.localeCompare(y.accountId),
    );
    return { accounts: accounts.map((a) => ({ id: a.id, kind: a.kind, currency: a.currency })), points };
  }
}
