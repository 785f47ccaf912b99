import { and, desc, eq, gte, lt, or, type SQL } from "drizzle-orm";
import { newId } from "../crypto/random";
import type { Db } from "./client";
import { auditEvents, auditInbox, auditPii } from "./schema";

export type AuditRow = typeof auditEvents.$inferSelect;
export type NewAuditRow = Omit<typeof auditEvents.$inferInsert, "id"> & { occurredAt: Date };

/**
 * An INSERT for one audit event, to run alone or inside the batch of the change it records. It
 * goes through `audit_inbox`, whose trigger keeps the IP address, user agent and location in
 * `audit_pii`, erased with their owner's account (migration 0011).
 */
export function insertAudit(db: Db, row: NewAuditRow) {
  return db.insert(auditInbox).values({ id: newId("evt"), ...row });
}

/** Audit rows with their personal part joined back, newest first, keyset pages on (occurred_at, id). */
async function readAudit(db: Db, where: SQL | undefined, limit: number): Promise<AuditRow[]> {
  const rows = await db
    .select({ e: auditEvents, p: auditPii })
    .from(auditEvents)
    .leftJoin(auditPii, eq(auditPii.eventId, auditEvents.id))
    .where(where)
    .orderBy(desc(auditEvents.occurredAt), desc(auditEvents.id))
    .limit(limit);
  return rows.map(({ e, p }) =>
    p ? { ...e, ipAddress: p.ipAddress, userAgent: p.userAgent, location: p.location ?? null } : e,
  );
}

/** A user's own events, newest first, keyset-paginated on (occurred_at, id). */
export function listUserAudit(db: Db, userId: string, limit: number, after?: { at: Date; id: string }) {
  const page = after
    ? or(lt(auditEvents.occurredAt, after.at), and(eq(auditEvents.occurredAt, after.at), lt(auditEvents.id, after.id)))
    : undefined;
  return readAudit(db, and(eq(auditEvents.userId, userId), page), limit);
}

/** The admin audit query: optional user, action and time filters, newest first, keyset pages. */
export function queryAudit(
  db: Db,
  f: {
    userId?: string;
    action?: string;
    traceId?: string;
    since?: Date;
    until?: Date;
    limit: number;
    after?: { at: Date; id: string };
  },
) {
  const page = f.after
    ? or(
        lt(auditEvents.occurredAt, f.after.at),
        and(eq(auditEvents.occurredAt, f.after.at), lt(auditEvents.id, f.after.id)),
      )
    : undefined;
  return readAudit(
    db,
    and(
      f.userId ? eq(auditEvents.userId, f.userId) : undefined,
      f.action ? eq(auditEvents.action, f.action) : undefined,
      f.traceId ? eq(auditEvents.traceId, f.traceId) : undefined,
      f.since ? gte(auditEvents.occurredAt, f.since) : undefined,
      f.until ? lt(auditEvents.occurredAt, f.until) : undefined,
      page,
    ),
    f.limit,
  );
}
