/**
 * Clients (an IP, or an IPv6 /64) that logged in to an address successfully, held by the
 * address's Limiter: the per-address budget of failed logins never refuses them, so strangers who
 * spend it cannot keep the owner out (docs/security.md, second pass item 4).
 */

/** How long a successful login keeps its client known. */
export const KNOWN_CLIENT_MS = 30 * 86_400_000;

export class KnownClients {
  constructor(private readonly sql: SqlStorage) {}

  has(client: string, now: number): boolean {
    return (
      this.sql
        .exec("SELECT 1 FROM known_clients WHERE client = ? AND last_success_at > ?", client, now - KNOWN_CLIENT_MS)
        .toArray().length > 0
    );
  }

  remember(client: string, now: number): void {
    this.sql.exec(
      `INSERT INTO known_clients (client, last_success_at) VALUES (?, ?)
       ON CONFLICT(client) DO UPDATE SET last_success_at = excluded.last_success_at`,
      client,
      now,
    );
  }

  purge(now: number): void {
    this.sql.exec("DELETE FROM known_clients WHERE last_success_at <= ?", now - KNOWN_CLIENT_MS);
  }

  nextPurge(): number | null {
    const t = this.sql.exec<{ t: number | null }>("SELECT min(last_success_at) AS t FROM known_clients").one().t;
    return t === null ? null : t + KNOWN_CLIENT_MS;
  }
}
