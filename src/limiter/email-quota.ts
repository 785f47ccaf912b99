/**
 * At most `max` emails of one kind to one address per rolling hour (docs/contract.md "Defaults"), held by
 * the address's `email:` Limiter. A sliding log, not a token bucket, so "5 an hour" is exact.
 */
export const EMAIL_WINDOW_MS = 3_600_000;

export class EmailQuota {
  constructor(private readonly sql: SqlStorage) {}

  /** Records a send and answers true, or answers false (and records nothing) when over quota. */
  allow(kind: string, max: number, now: number): boolean {
    this.sql.exec("DELETE FROM emails_sent WHERE at <= ?", now - EMAIL_WINDOW_MS);
    const sent = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM emails_sent WHERE kind = ?", kind).one().n;
    if (sent >= max) return false;
    this.sql.exec("INSERT INTO emails_sent (kind, at) VALUES (?, ?)", kind, now);
    return true;
  }

  nextPurge(): number | null {
    const t = this.sql.exec<{ t: number | null }>("SELECT min(at) AS t FROM emails_sent").one().t;
    return t === null ? null : t + EMAIL_WINDOW_MS;
  }

  purge(now: number): void {
    this.sql.exec("DELETE FROM emails_sent WHERE at <= ?", now - EMAIL_WINDOW_MS);
  }
}
