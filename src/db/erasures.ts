import { asc, eq, lte } from "drizzle-orm";
import type { Db } from "./client";
import { pendingErasures } from "./schema";

/** The intent to erase a user, with the audit row to write once it is done (kept if asked again). */
export const recordErasure = (db: Db, userId: string, now: Date, audit: string) =>
  db.insert(pendingErasures).values({ userId, requestedAt: now, audit }).onConflictDoNothing();

export const clearErasure = (db: Db, userId: string) =>
  db.delete(pendingErasures).where(eq(pendingErasures.userId, userId));

/** Erasures requested before `before`, oldest first. */
export const pendingErasuresBefore = (db: Db, before: Date, limit: number) =>
  db
    .select()
    .from(pendingErasures)
    .where(lte(pendingErasures.requestedAt, before))
    .orderBy(asc(pendingErasures.requestedAt))
    .limit(limit);
