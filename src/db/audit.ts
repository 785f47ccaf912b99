import { and, desc, eq, lt, or } from "drizzle-orm";
import { newId } from "../crypto/random";
import type { Db } from "./client";
import { auditEvents } from "./schema";

export type AuditRow = typeof auditEvents.$inferSelect;
export type NewAuditRow = Omit<typeof auditEvents.$inferInsert, "id"> & { occurredAt: Date };

/** An INSERT for one audit event, to run alone or inside the batch of the change it records. */
export function insertAudit(db: Db, row: NewAuditRow) {
  return db.insert(auditEvents).values({ id: newId("evt"), ...row });
}

/** A user's own events, newest first, keyset-paginated on (occurred_at, id). */
export function listUserAudit(db: Db, userId: string, limit: number, after?: { at: Date; id: string }) {
  const page = after
    ? or(lt(auditEvents.occurredAt, after.at), and(eq(auditEvents.occurredAt, after.at), lt(auditEvents.id, after.id)))
    : undefined;
  return db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.userId, userId), page))
    .orderBy(desc(auditEvents.occurredAt), desc(auditEvents.id))
    .limit(limit);
}
