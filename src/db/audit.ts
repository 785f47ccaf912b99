import { and, desc, eq, gte, lt, or } from "drizzle-orm";
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

/** The admin audit query: optional user, action and time filters, newest first, keyset pages. */
export function queryAudit(
  db: Db,
  f: { userId?: string; action?: string; since?: Date; until?: Date; limit: number; after?: { at: Date; id: string } },
) {
  const page = f.after
    ? or(
        lt(auditEvents.occurredAt, f.after.at),
        and(eq(auditEvents.occurredAt, f.after.at), lt(auditEvents.id, f.after.id)),
      )
    : undefined;
  return db
    .select()
    .from(auditEvents)
    .where(
      and(
        f.userId ? eq(auditEvents.userId, f.userId) : undefined,
        f.action ? eq(auditEvents.action, f.action) : undefined,
        f.since ? gte(auditEvents.occurredAt, f.since) : undefined,
        f.until ? lt(auditEvents.occurredAt, f.until) : undefined,
        page,
      ),
    )
    .orderBy(desc(auditEvents.occurredAt), desc(auditEvents.id))
    .limit(f.limit);
}
