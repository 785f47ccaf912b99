/**
 * Wrong second-factor answers per login challenge (`mfa_token`), counted in the user's home: a
 * challenge dies at its fifth wrong code whatever addresses they come from (docs/security.md,
 * second pass item 2). The account's budget of wrong answers is a bucket beside it (`mfa_user`).
 */

/** How many wrong codes a login challenge survives. */
export const CHALLENGE_MAX_FAILURES = 5;

export class ChallengeFailures {
  constructor(private readonly sql: SqlStorage) {}

  count(challenge: string): number {
    return (
      this.sql
        .exec<{ failures: number }>("SELECT failures FROM challenge_failures WHERE challenge = ?", challenge)
        .toArray()[0]?.failures ?? 0
    );
  }

  /** Counts one wrong code; returns the challenge's count. */
  fail(challenge: { id: string; expiresAt: number }): number {
    return this.sql
      .exec<{ failures: number }>(
        `INSERT INTO challenge_failures (challenge, failures, expires_at) VALUES (?, 1, ?)
         ON CONFLICT(challenge) DO UPDATE SET failures = failures + 1 RETURNING failures`,
        challenge.id,
        challenge.expiresAt,
      )
      .one().failures;
  }

  purge(now: number): void {
    this.sql.exec("DELETE FROM challenge_failures WHERE expires_at <= ?", now);
  }

  nextPurge(): number | null {
    return this.sql.exec<{ t: number | null }>("SELECT min(expires_at) AS t FROM challenge_failures").one().t;
  }
}

/** Wrong re-authentications in a row, per session (a stolen session cannot brute-force the password). */
export class ReauthFailures {
  constructor(private readonly sql: SqlStorage) {}

  fail(sessionId: string): number {
    return this.sql
      .exec<{ failures: number }>(
        `INSERT INTO reauth_failures (session_id, failures) VALUES (?, 1)
         ON CONFLICT(session_id) DO UPDATE SET failures = failures + 1 RETURNING failures`,
        sessionId,
      )
      .one().failures;
  }

  clear(sessionId: string): void {
    this.sql.exec("DELETE FROM reauth_failures WHERE session_id = ?", sessionId);
  }
}
