/** Dead letters: sync runs that used up their attempts, recorded for administrators (cross-user). */
import { and, desc, eq, isNotNull, isNull, lt, or } from "drizzle-orm";
import type { Db } from "./client";
import { syncDeadLetters } from "./schema";

export type DeadLetterRow = typeof syncDeadLetters.$inferSelect;

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
