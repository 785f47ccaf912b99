import { and, desc, eq, lt, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { users } from "./schema";

export type UserRow = typeof users.$inferSelect;

export const findUserByEmail = (db: Db, email: string) => db.select().from(users).where(eq(users.email, email)).get();

export const findUserById = (db: Db, id: string) => db.select().from(users).where(eq(users.id, id)).get();

export const insertUser = (db: Db, row: typeof users.$inferInsert) => db.insert(users).values(row);

export const updateUser = (db: Db, id: string, patch: Partial<typeof users.$inferInsert>) =>
  db.update(users).set(patch).where(eq(users.id, id));

/**
 * Bumps the token version (breach rotation) and returns the new value. Not a profile change:
 * `updated_at` stays (it dates what `GET /auth/me` shows).
 */
export const bumpTokenVersion = (db: Db, id: string) =>
  db
    .update(users)
    .set({ tokenVersion: sql`${users.tokenVersion} + 1` })
    .where(eq(users.id, id))
    .returning({ tokenVersion: users.tokenVersion });

/** Admin listing: newest first, keyset-paginated on (created_at, id), optional substring search. */
export function listUsers(db: Db, opts: { q?: string; limit: number; after?: { at: Date; id: string } }) {
  // LIKE with the wildcards of the search term escaped, so `%` and `_` match themselves.
  const pattern = opts.q ? `%${opts.q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%` : undefined;
  const search = pattern
    ? or(sql`${users.email} LIKE ${pattern} ESCAPE '\\'`, sql`${users.name} LIKE ${pattern} ESCAPE '\\'`)
    : undefined;
  const page = opts.after
    ? or(lt(users.createdAt, opts.after.at), and(eq(users.createdAt, opts.after.at), lt(users.id, opts.after.id)))
    : undefined;
  return db
    .select()
    .from(users)
    .where(and(search, page))
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(opts.limit);
}

/** Deletes an account; sessions, tokens and connections go with it by foreign-key cascade. */
export const deleteUser = (db: Db, id: string) => db.delete(users).where(eq(users.id, id)).returning({ id: users.id });

/** Global rotation: every user's version moves on, so every refresh token issued before fails. */
export const bumpAllTokenVersions = (db: Db) => db.update(users).set({ tokenVersion: sql`${users.tokenVersion} + 1` });
