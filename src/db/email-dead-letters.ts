/** Email dead letters: emails that were never delivered, recorded for administrators. */
import { and, desc, eq, isNotNull, isNull, lt, or } from "drizzle-orm";
import type { Db } from "./client";
import { emailDeadLetters } from "./schema";

export type EmailDeadLetterRow = typeof emailDeadLetters.$inferSelect;

/** Records a dead letter once per email (the dead-letter queue delivers at least once). */
export const insertEmailDeadLetter = (db: Db, row: typeof emailDeadLetters.$inferInsert) =>
  db.insert(emailDeadLetters).values(row).onConflictDoNothing({ target: emailDeadLetters.emailId }).returning();

export const findEmailDeadLetter = (db: Db, id: string) =>
  db.select().from(emailDeadLetters).where(eq(emailDeadLetters.id, id)).get();

/** Dead letters, newest first, filtered by state, keyset-paginated on (dead_lettered_at, id). */
export function listEmailDeadLetters(
  db: Db,
  f: { state: "open" | "replayed" | "all"; limit: number; after?: { at: Date; id: string } },
) {
  const state =
    f.state === "open"
      ? isNull(emailDeadLetters.replayedAt)
      : f.state === "replayed"
        ? isNotNull(emailDeadLetters.replayedAt)
        : undefined;
  const page = f.after
    ? or(
        lt(emailDeadLetters.deadLetteredAt, f.after.at),
        and(eq(emailDeadLetters.deadLetteredAt, f.after.at), lt(emailDeadLetters.id, f.after.id)),
      )
    : undefined;
  return db
    .select()
    .from(emailDeadLetters)
    .where(and(state, page))
    .orderBy(desc(emailDeadLetters.deadLetteredAt), desc(emailDeadLetters.id))
    .limit(f.limit);
}

/**
 * Marks a dead letter replayed. Unconditional on purpose: the trigger of migration 0015 aborts it
 * (and the batch it rides in) when the letter was already replayed, so of two racing replays
 * exactly one commits its email and its audit row.
 */
export const markEmailReplayed = (
  db: Db,
  id: string,
  patch: { replayedAt: Date; replayEmailId: string; replayedBy: string },
) => db.update(emailDeadLetters).set(patch).where(eq(emailDeadLetters.id, id)).returning();

/** Drops the sealed messages of dead letters recorded before `before` (links expire; nothing to keep). */
export const purgeSealedDeadLetters = (db: Db, before: Date) =>
  db
    .update(emailDeadLetters)
    .set({ sealed: null })
    .where(and(lt(emailDeadLetters.deadLetteredAt, before), isNotNull(emailDeadLetters.sealed)))
    .returning({ id: emailDeadLetters.id });
