import { desc, eq, lt } from "drizzle-orm";
import type { Db } from "./client";
import { outboxMessages } from "./schema";

export const insertOutbox = (db: Db, row: typeof outboxMessages.$inferInsert) => db.insert(outboxMessages).values(row);

export const listOutbox = (db: Db, to: string, limit = 50) =>
  db
    .select()
    .from(outboxMessages)
    .where(eq(outboxMessages.to, to))
    .orderBy(desc(outboxMessages.createdAt), desc(outboxMessages.id))
    .limit(limit);

export const purgeOutbox = (db: Db, before: Date) =>
  db.delete(outboxMessages).where(lt(outboxMessages.createdAt, before));
