/**
 * Shared pieces of a sync's write batch: the lease guard every data statement carries, and the
 * change-feed sequence the statements number their rows from.
 */
import { sql } from "drizzle-orm";
import type { Db } from "./client";
import { raw } from "./raw-batch";
import { changeFeedCounter } from "./schema";

/** One field of the current `json_each` row (`j`); `key` is one of our own column names, never input. */
export const jsonField = (key: string) => sql.raw(`json_extract(j.value, '$.${key}')`);

/** Who may write: the run holding the connection's sync lease (see acquireSyncLease). */
export interface LeaseHolder {
  connectionId: string;
  owner: string;
}

/**
 * A WHERE condition true only while `holder` still owns the lease. Every data statement of a
 * sync carries it, so a run whose lease expired and was taken over writes nothing at all.
 */
export const leaseHeld = (holder: LeaseHolder) =>
  sql`EXISTS (SELECT 1 FROM connections WHERE id = ${holder.connectionId} AND sync_lock_owner = ${holder.owner})`;

/**
 * The feed's current high-water mark. Statements in one batch all read the same value (the
 * counter moves only in the batch's last statement) and number their rows base + offset + 1...,
 * so numbers are unique and, since D1 runs one write transaction at a time, commit in order.
 */
export const feedBase = sql`COALESCE((SELECT value FROM change_feed_counter WHERE id = 1), 0)`;

/** Moves the feed counter past the `count` numbers a sync's batch used; its last statement, guarded too. */
export const advanceFeed = (holder: LeaseHolder, count: number) =>
  raw(
    sql`INSERT INTO change_feed_counter (id, value) SELECT 1, ${count} WHERE ${leaseHeld(holder)}
        ON CONFLICT (id) DO UPDATE SET value = value + excluded.value`,
  );

/** The same for a drizzle batch, with the count given as SQL (evaluated inside the batch). */
export const advanceFeedBy = (db: Db, count: ReturnType<typeof sql>) =>
  db
    .insert(changeFeedCounter)
    .values({ id: 1, value: count })
    .onConflictDoUpdate({
      target: changeFeedCounter.id,
      set: { value: sql`${changeFeedCounter.value} + excluded.value` },
    });
