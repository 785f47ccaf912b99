/** Sync runs and dead letters. */
import { and, desc, eq, inArray, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { type SyncRunStatus, syncDeadLetters, syncRuns } from "./schema";

export type SyncRunRow = typeof syncRuns.$inferSelect;
export type SyncRunPatch = Partial<typeof syncRuns.$inferInsert>;
export type DeadLetterRow = typeof syncDeadLetters.$inferSelect;

/** Runs that are not finished: a new one for the same connection would only wait for them. */
export const IN_FLIGHT: SyncRunStatus[] = ["queued", "running", "retrying"];
/** Runs that are finished: a redelivered message for one of them is a duplicate. */
export const FINISHED: SyncRunStatus[] = ["succeeded", "failed", "dead_lettered", "skipped"];

/** Inserts a run unless its idempotency key exists; returns the row only when it was inserted. */
export const insertRun = (db: Db, row: typeof syncRuns.$inferInsert) =>
  db.insert(syncRuns).values(row).onConflictDoNothing({ target: syncRuns.idempotencyKey }).returning();

/** Deletes runs that were never sent (an enqueue that failed). Ids travel as one JSON parameter. */
export const deleteRuns = (db: Db, ids: string[]) =>
  db.delete(syncRuns).where(sql`${syncRuns.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`);

export const findRun = (db: Db, id: string) => db.select().from(syncRuns).where(eq(syncRuns.id, id)).get();

export const updateRun = (db: Db, id: string, patch: SyncRunPatch) =>
  db.update(syncRuns).set(patch).where(eq(syncRuns.id, id)).returning();

/** Finishes a run unless it is already finished (a late duplicate must not overwrite an outcome). */
export const finishRun = (db: Db, id: string, patch: SyncRunPatch) =>
  db
    .update(syncRuns)
    .set(patch)
    .where(and(eq(syncRuns.id, id), inArray(syncRuns.status, IN_FLIGHT)))
    .returning({ id: syncRuns.id });

/** The newest unfinished run of a connection, if any. */
export const inFlightRun = (db: Db, connectionId: string) =>
  db
    .select()
    .from(syncRuns)
    .where(and(eq(syncRuns.connectionId, connectionId), inArray(syncRuns.status, IN_FLIGHT)))
    .orderBy(desc(syncRuns.queuedAt), desc(syncRuns.id))
    .get();

/** A connection's runs, newest first, keyset-paginated on (queued_at, id). */
export const listConnectionRuns = (db: Db, connectionId: string, limit: number, after?: { at: Date; id: string }) =>
  db
    .select()
    .from(syncRuns)
    .where(
      and(
        eq(syncRuns.connectionId, connectionId),
        after
          ? or(lt(syncRuns.queuedAt, after.at), and(eq(syncRuns.queuedAt, after.at), lt(syncRuns.id, after.id)))
          : undefined,
      ),
    )
    .orderBy(desc(syncRuns.queuedAt), desc(syncRuns.id))
    .limit(limit);

/** Unfinished runs queued before `before`: lost (a crashed consumer, an enqueue that failed). */
export const lostRuns = (db: Db, before: Date, limit: number) =>
  db
    .select()
    .from(syncRuns)
    .where(and(inArray(syncRuns.status, IN_FLIGHT), lt(syncRuns.queuedAt, before)))
    .orderBy(syncRuns.queuedAt)
    .limit(limit);

/** Records a dead letter once per run (the DLQ delivers at least once). */
export const insertDeadLetter = (db: Db, row: typeof syncDeadLetters.$inferInsert) =>
  db.insert(syncDeadLetters).values(row).onConflictDoNothing({ target: syncDeadLetters.runId }).returning();

export const findDeadLetter = (db: Db, id: string) =>
  db.select().from(syncDeadLetters).where(eq(syncDeadLetters.id, id)).get();

/** Dead letters, newest first, filtered by state, keyset-paginated on (dead_lettered_at, id). */
export function listDeadLetters(
  db: Db,
  f: { state: "open" | "replayed" | "all"; limit: number; after?: { at: Date; id: string } },
) {
  const state =
    f.state === "open"
      ? isNull(syncDeadLetters.replayedAt)
      : f.state === "replayed"
        ? isNotNull(syncDeadLetters.replayedAt)
        : undefined;
  const page = f.after
    ? or(
        lt(syncDeadLetters.deadLetteredAt, f.after.at),
        and(eq(syncDeadLetters.deadLetteredAt, f.after.at), lt(syncDeadLetters.id, f.after.id)),
      )
    : undefined;
  return db
    .select()
    .from(syncDeadLetters)
    .where(and(state, page))
    .orderBy(desc(syncDeadLetters.deadLetteredAt), desc(syncDeadLetters.id))
    .limit(f.limit);
}

/** Marks a dead letter replayed, once (of two racing replays exactly one gets the row). */
export const markReplayed = (
  db: Db,
  id: string,
  patch: { replayedAt: Date; replayRunId: string; replayedBy: string },
) =>
  db
    .update(syncDeadLetters)
    .set(patch)
    .where(and(eq(syncDeadLetters.id, id), isNull(syncDeadLetters.replayedAt)))
    .returning();

/**
 * Deletes finished runs queued before `before`, at most `limit` per call (a bounded statement;
 * the hourly job comes back for the rest). Dead letters keep their own copy of what matters.
 */
export const purgeFinishedRuns = (db: Db, before: Date, limit: number) =>
  db.delete(syncRuns).where(
    inArray(
      syncRuns.id,
      db
        .select({ id: syncRuns.id })
        .from(syncRuns)
        .where(and(inArray(syncRuns.status, FINISHED), lt(syncRuns.queuedAt, before)))
        .limit(limit),
    ),
  );
