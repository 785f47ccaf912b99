/**
 * Each connection's share of its provider's calls, kept in the user's home so a sync plans
 * within it (docs/providers/: GoCardless allows 4 successful calls per account and scope in 24
 * hours, SimpleFIN's bridge about 24 requests a day). A rolling window of spent units; the
 * caller says the policy (the home reads no config) and how many units a sync spent.
 */

/** A provider's allowance: `limit` units in any `windowMs`. */
export interface QuotaPolicy {
  limit: number;
  windowMs: number;
}

/** What is left now, and when the next unit frees up when none is. */
export interface QuotaRoom {
  left: number;
  /** Epoch ms when a unit frees up; null while units are left. */
  retryAt: number | null;
}

export class ProviderQuotas {
  constructor(private readonly sql: SqlStorage) {}

  /** Units left in the window ending now. */
  room(connectionId: string, policy: QuotaPolicy, now: number): QuotaRoom {
    const since = now - policy.windowMs;
    const spent = this.sql
      .exec<{ at: number; units: number }>(
        "SELECT at, units FROM provider_calls WHERE connection_id = ? AND at > ? ORDER BY at",
        connectionId,
        since,
      )
      .toArray();
    const used = spent.reduce((n, r) => n + r.units, 0);
    const left = Math.max(0, policy.limit - used);
    if (left > 0) return { left, retryAt: null };
    // The oldest spends leave the window first: when enough have, a unit is free again.
    let freed = used - policy.limit + 1;
    for (const r of spent) {
      freed -= r.units;
      if (freed <= 0) return { left: 0, retryAt: r.at + policy.windowMs };
    }
    return { left: 0, retryAt: now + policy.windowMs };
  }

  /** Records units a sync spent; rows older than the window go. */
  spend(connectionId: string, units: number, policy: QuotaPolicy, now: number): void {
    this.sql.exec(
      "DELETE FROM provider_calls WHERE connection_id = ? AND at <= ?",
      connectionId,
      now - policy.windowMs,
    );
    if (units > 0) {
      this.sql.exec("INSERT INTO provider_calls (connection_id, at, units) VALUES (?, ?, ?)", connectionId, now, units);
    }
  }

  /** A deleted connection's spends go with it. */
  forget(connectionId: string): void {
    this.sql.exec("DELETE FROM provider_calls WHERE connection_id = ?", connectionId);
  }
}
