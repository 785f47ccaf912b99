import { desc, eq, lt } from "drizzle-orm";
import type { Db } from "./client";
import { outboxMessages } from "./schema";

/** Stores a message once per idempotency key: a redelivered queue message adds nothing. */
export const insertOutbox = (db: Db, row: typeof outboxMessages.$inferInsert) =>
  db.insert(outboxMessages).values(row).onConflictDoNothing({ target: outboxMessages.idempotencyKey });

export const listOutbox = (db: Db, to: string, limit = 50) =>
  db
    .select()
    .from(outboxMessages)
    .where(eq(outboxMessages.to, to))
    .orderBy(desc(outboxMessages.createdAt), desc(outboxMessages.id))
    .limit(limit);

export const purgeOutbox = (db: Db, before: Date) =>
  db.delete(outboxMessages).where(lt(outboxMessages.createdAt, before));
