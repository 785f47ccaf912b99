/**
 * Failed-login lockout per (account, client), held by the account's `email:` Limiter
 * (`email:<sha256>`), so an unknown address locks exactly like a known one and one client's
 * failures never lock out another (docs/contract.md "Defaults": Auth0's "per identifier and IP").
 */
export interface LockoutPolicy {
  threshold: number;
  durationMs: number;
}

export interface LockoutAnswer {
  /** Consecutive failures counted for this client (0 right after a lock starts). */
  failures: number;
  /** Epoch ms until which this client is locked out, or null. */
  lockedUntil: number | null;
  /** True only for the failure that started the lock (notify and audit once). */
  lockedNow: boolean;
}

type Row = { failures: number; locked_until: number | null };

/** Entries idle this long are forgotten (a lock never lasts longer than a day, config). */
const IDLE_MS = 86_400_000;

export class LockoutStore {
  constructor(private readonly sql: SqlStorage) {}

  private row(client: string): Row | undefined {
    return this.sql.exec<Row>("SELECT failures, locked_until FROM lockouts WHERE client = ?", client).toArray()[0];
  }

  /** The client's lock, if one is running. */
  status(client: string, now: number): { lockedUntil: number | null } {
    const until = this.row(client)?.locked_until ?? null;
    return { lockedUntil: until !== null && until > now ? until : null };
  }

  /** Counts a failure; the threshold-th in a row locks the client for the policy's duration. */
  fail(client: string, policy: LockoutPolicy, now: number): LockoutAnswer {
    const row = this.row(client);
    if (row?.locked_until && row.locked_until > now) {
      return { failures: 0, lockedUntil: row.locked_until, lockedNow: false };
    }
    const failures = (row && !row.locked_until ? row.failures : 0) + 1;
    const locks = failures >= policy.threshold;
    const lockedUntil = locks ? now + policy.durationMs : null;
    this.sql.exec(
      `INSERT INTO lockouts (client, failures, locked_until, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(client) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until,
       updated_at = excluded.updated_at`,
      client,
      locks ? 0 : failures,
      lockedUntil,
      now,
    );
    return { failures: locks ? 0 : failures, lockedUntil, lockedNow: locks };
  }

  /**
   * A success from this client starts its count again. A running lock is lifted only with `lift`
   * (a completed password reset proved the inbox); a right password alone cannot reach here
   * while locked.
   */
  reset(client: string, lift = false): void {
    if (lift) this.sql.exec("DELETE FROM lockouts WHERE client = ?", client);
    else this.sql.exec("DELETE FROM lockouts WHERE client = ? AND locked_until IS NULL", client);
  }

  purge(now: number): void {
    this.sql.exec(
      "DELETE FROM lockouts WHERE updated_at <= ? AND (locked_until IS NULL OR locked_until <= ?)",
      now - IDLE_MS,
      now,
    );
  }

  nextPurge(): number | null {
    const t = this.sql.exec<{ t: number | null }>("SELECT min(updated_at) AS t FROM lockouts").one().t;
    return t === null ? null : t + IDLE_MS;
  }
}
