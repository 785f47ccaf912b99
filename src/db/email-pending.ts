/** Emails kept back while the queue was unavailable, and replays not yet handed to the queue. */
import { and, asc, eq, gt, inArray, or } from "drizzle-orm";
import type { Db } from "./client";
import { emailPending } from "./schema";

export type PendingEmailRow = typeof emailPending.$inferSelect;

/** Keeps an email for the cron (idempotent on its id: keeping it twice keeps it once). */
export const insertPendingEmail = (db: Db, row: PendingEmailRow) =>
  db.insert(emailPending).values(row).onConflictDoNothing({ target: emailPending.id });

/** Kept emails, oldest first, keyset pages on (created_at, id). */
export function listPendingEmails(db: Db, limit: number, after?: { at: Date; id: string }) {
  const page = after
    ? or(gt(emailPending.createdAt, after.at), and(eq(emailPending.createdAt, after.at), gt(emailPending.id, after.id)))
    : undefined;
  return db
    .select()
    .from(emailPending)
    .where(page)
    .orderBy(asc(emailPending.createdAt), asc(emailPending.id))
    .limit(limit);
}

/** Forgets kept emails once the queue has taken them. */
export const deletePendingEmails = (db: Db, ids: string[]) =>
  db.delete(emailPending).where(inArray(emailPending.id, ids));
