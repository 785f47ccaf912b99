import { and, desc, eq, gt, isNotNull, isNull, lt, ne, or } from "drizzle-orm";
import type { Db } from "./client";
import { refreshTokens, sessions, users } from "./schema";

export type SessionRow = typeof sessions.$inferSelect;

export const insertSession = (db: Db, row: typeof sessions.$inferInsert) => db.insert(sessions).values(row);

export const findSession = (db: Db, id: string) => db.select().from(sessions).where(eq(sessions.id, id)).get();

/** The session with its user's current token version, for per-request checks. */
export const findSessionWithUser = (db: Db, sessionId: string) =>
  db
    .select({ session: sessions, tokenVersion: users.tokenVersion, role: users.role })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sessionId))
    .get();

export const insertRefreshToken = (db: Db, row: typeof refreshTokens.$inferInsert) =>
  // OR IGNORE: concurrent refreshes inside the grace window insert the same successor.
  db.insert(refreshTokens).values(row).onConflictDoNothing();

/** A refresh token by hash (primary key lookup) with its session and user. */
export const findRefreshToken = (db: Db, tokenHash: string) =>
  db
    .select({ token: refreshTokens, session: sessions, user: users })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(refreshTokens.tokenHash, tokenHash))
    .get();

/** Marks a token rotated, only if it is still current (first writer wins). */
export const rotateRefreshToken = (db: Db, tokenHash: string, successorHash: string, now: Date) =>
  db
    .update(refreshTokens)
    .set({ rotatedAt: now, successorHash })
    .where(and(eq(refreshTokens.tokenHash, tokenHash), isNull(refreshTokens.rotatedAt)));

export const touchSession = (db: Db, id: string, patch: Partial<typeof sessions.$inferInsert>) =>
  db.update(sessions).set(patch).where(eq(sessions.id, id));

/** Revokes one live session. */
export const revokeSession = (db: Db, id: string, reason: string, now: Date) =>
  db
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(eq(sessions.id, id), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });

/** Revokes every live session of a user, optionally sparing one; returns the revoked ids. */
export const revokeUserSessions = (db: Db, userId: string, reason: string, now: Date, except?: string) =>
  db
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, now),
        except ? ne(sessions.id, except) : undefined,
      ),
    )
    .returning({ id: sessions.id });

/** Sessions of a user revoked after `since` (their access tokens may still be unexpired). */
export const listRevokedSessionIds = (db: Db, userId: string, since: Date) =>
  db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNotNull(sessions.revokedAt), gt(sessions.revokedAt, since)));

export const listLiveSessions = (db: Db, userId: string, now: Date) =>
  db
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
    .orderBy(desc(sessions.lastActiveAt));

export const countLiveSessions = async (db: Db, userId: string, now: Date) =>
  (await listLiveSessions(db, userId, now)).length;

/** Scheduled purge: sessions that expired, or were revoked, before `before` (refresh tokens cascade). */
export const purgeEndedSessions = (db: Db, before: Date) =>
  db
    .delete(sessions)
    .where(or(lt(sessions.expiresAt, before), and(isNotNull(sessions.revokedAt), lt(sessions.revokedAt, before))))
    .returning({ id: sessions.id });
