import { type Bucket, type Decision, take } from "./bucket";
import type { Rule } from "./rules";

/**
 * Token buckets kept in the object's SQLite, so waiting for the object to leave memory never
 * refills them (docs/contract.md "Defaults": limits survive eviction). One row per bucket; a row is
 * forgotten once the bucket would be full again anyway (`idle_after`).
 */
export class BucketStore {
  constructor(private readonly sql: SqlStorage) {}

  /** Takes one token; `firstDenial` is true for the first refusal after an allowed request. */
  take(id: string, rule: Rule, now: number): Decision & { firstDenial: boolean } {
    const row = this.sql
      .exec<{ tokens: number; at: number; denied: number }>("SELECT tokens, at, denied FROM buckets WHERE id = ?", id)
      .toArray()[0];
    const prev: Bucket | undefined = row ? { tokens: row.tokens, at: row.at } : undefined;
    const { bucket, decision } = take(rule, prev, now);
    const firstDenial = !decision.allowed && !row?.denied;
    this.sql.exec(
      `INSERT INTO buckets (id, tokens, at, denied, idle_after) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET tokens = excluded.tokens, at = excluded.at, denied = excluded.denied,
       idle_after = excluded.idle_after`,
      id,
      bucket.tokens,
      bucket.at,
      decision.allowed ? 0 : 1,
      now + decision.resetSeconds * 1000,
    );
    return { ...decision, firstDenial };
  }

  /** Drops buckets that have refilled completely (they behave exactly like absent ones). */
  purge(now: number): void {
    this.sql.exec("DELETE FROM buckets WHERE idle_after <= ?", now);
  }

  /** When the next bucket becomes forgettable, or null. */
  nextPurge(): number | null {
    return this.sql.exec<{ t: number | null }>("SELECT min(idle_after) AS t FROM buckets").one().t;
  }
}
