import { eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { users } from "./schema";

export type UserRow = typeof users.$inferSelect;

export const findUserByEmail = (db: Db, email: string) => db.select().from(users).where(eq(users.email, email)).get();

export const findUserById = (db: Db, id: string) => db.select().from(users).where(eq(users.id, id)).get();

export const insertUser = (db: Db, row: typeof users.$inferInsert) => db.insert(users).values(row);

export const updateUser = (db: Db, id: string, patch: Partial<typeof users.$inferInsert>) =>
  db.update(users).set(patch).where(eq(users.id, id));

/** Increments the failed-login count atomically and returns the new value. */
export const recordFailedLogin = (db: Db, id: string, now: Date) =>
  db
    .update(users)
    .set({ failedLoginCount: sql`${users.failedLoginCount} + 1`, updatedAt: now })
    .where(eq(users.id, id))
    .returning({ failedLoginCount: users.failedLoginCount })
    .get();

/** Bumps the token version (breach rotation) and returns the new value. */
export const bumpTokenVersion = (db: Db, id: string, now: Date) =>
  db
    .update(users)
    .set({ tokenVersion: sql`${users.tokenVersion} + 1`, updatedAt: now })
    .where(eq(users.id, id))
    .returning({ tokenVersion: users.tokenVersion });
