/**
 * A user's revoked sessions, kept until their access tokens could no longer be valid, plus the
 * latest "every session but one, as of this time" rule, so a bulk revocation has no window in
 * which a session created meanwhile survives (its tokens were issued before the cut).
 */
export interface Cutoff {
  /** Access tokens issued (iat, whole seconds) before this second are refused... */
  beforeSecond: number;
  /** ...except those of this session (revoke "others"), if any. */
  keep: string | null;
  /** When the rule can be forgotten (every token it could refuse has expired). */
  until: number;
}

const CUTOFF_KEY = "revocation_cutoff";

export class Revocations {
  private revoked = new Map<string, number>();
  private cutoff: Cutoff | null;

  constructor(private readonly storage: DurableObjectStorage) {
    for (const row of storage.sql.exec<{ session_id: string; until: number }>(
      "SELECT session_id, until FROM revoked_sessions",
    )) {
      this.revoked.set(row.session_id, row.until);
    }
    this.cutoff = storage.kv.get<Cutoff>(CUTOFF_KEY) ?? null;
  }

  /** Is a token of this session, issued at `iatSeconds`, refused? */
  refuses(sessionId: string, iatSeconds: number, now: number): boolean {
    if ((this.revoked.get(sessionId) ?? 0) > now) return true;
    const c = this.cutoff;
    // Whole seconds: a token from the cut's own second passes, and the sessions that existed then
    // are revoked by id as well (services/sessions.ts), so nothing slips through.
    return c !== null && c.until > now && sessionId !== c.keep && iatSeconds < c.beforeSecond;
  }

  add(sessionIds: string[], until: number): void {
    for (const id of sessionIds) {
      const kept = Math.max(until, this.revoked.get(id) ?? 0);
      this.revoked.set(id, kept);
      this.storage.sql.exec(
        "INSERT INTO revoked_sessions (session_id, until) VALUES (?, ?) ON CONFLICT(session_id) DO UPDATE SET until = excluded.until",
        id,
        kept,
      );
    }
  }

  setCutoff(cutoff: Cutoff): void {
    this.cutoff = cutoff;
    this.storage.kv.put(CUTOFF_KEY, cutoff);
  }

  /** Forgets what can no longer matter. */
  purge(now: number): void {
    this.storage.sql.exec("DELETE FROM revoked_sessions WHERE until <= ?", now);
    for (const [id, until] of this.revoked) if (until <= now) this.revoked.delete(id);
    if (this.cutoff && this.cutoff.until <= now) {
      this.cutoff = null;
      this.storage.kv.delete(CUTOFF_KEY);
    }
  }

  nextPurge(): number | null {
    const times = [...this.revoked.values(), ...(this.cutoff ? [this.cutoff.until] : [])];
    return times.length ? Math.min(...times) : null;
  }
}
