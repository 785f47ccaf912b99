import { and, asc, count, eq, gt, inArray, isNotNull, isNull, lt, lte, ne, notExists, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { type ConnectionStatus, connections, oauthStates } from "./schema";

export type ConnectionRow = typeof connections.$inferSelect;
export type ConnectionPatch = Partial<typeof connections.$inferInsert>;

export const insertConnection = (db: Db, row: typeof connections.$inferInsert) => db.insert(connections).values(row);

/** One connection, only if it belongs to `userId` (others' are indistinguishable from missing). */
export const findUserConnection = (db: Db, userId: string, id: string) =>
  db
    .select()
    .from(connections)
    .where(and(eq(connections.id, id), eq(connections.userId, userId)))
    .get();

export const findConnection = (db: Db, id: string) => db.select().from(connections).where(eq(connections.id, id)).get();

/** A user's connections, oldest first (a stable order for UIs). */
export const listUserConnections = (db: Db, userId: string) =>
  db
    .select()
    .from(connections)
    .where(eq(connections.userId, userId))
    .orderBy(asc(connections.createdAt), asc(connections.id));

export const countUserConnections = (db: Db, userId: string) =>
  db.select({ n: count() }).from(connections).where(eq(connections.userId, userId)).get();

export const updateUserConnection = (db: Db, userId: string, id: string, patch: ConnectionPatch) =>
  db
    .update(connections)
    .set(patch)
    .where(and(eq(connections.id, id), eq(connections.userId, userId)))
    .returning();

/** Deletes a connection; its OAuth states go by foreign-key cascade. */
export const deleteUserConnection = (db: Db, userId: string, id: string) =>
  db
    .delete(connections)
    .where(and(eq(connections.id, id), eq(connections.userId, userId)))
    .returning();

/**
 * Takes the refresh lease when it is free or stale: one conditional UPDATE, so of any number of
 * racing callers exactly one gets the row back.
 */
export const acquireRefreshLease = (db: Db, id: string, owner: string, now: Date, until: Date) =>
  db
    .update(connections)
    .set({ refreshLockOwner: owner, refreshLockUntil: until })
    .where(
      and(
        eq(connections.id, id),
        or(isNull(connections.refreshLockUntil), lte(connections.refreshLockUntil, now)),
        ne(connections.status, "reauth_required"),
      ),
    )
    .returning()
    .get();

/** Writes under the lease and releases it; updates nothing if the lease was lost. Answers the row written. */
export const updateUnderLease = (db: Db, id: string, owner: string, patch: ConnectionPatch) =>
  db
    .update(connections)
    .set({ ...patch, refreshLockOwner: null, refreshLockUntil: null })
    .where(and(eq(connections.id, id), eq(connections.refreshLockOwner, owner)))
    .returning();

/** Swaps ciphertexts only if they are still the ones read (compare-and-swap for the re-wrap job). */
export const swapCredentials = (
  db: Db,
  id: string,
  before: { access: string; refresh: string },
  after: { access: string; refresh: string; keyId: string },
) =>
  db
    .update(connections)
    .set({ accessTokenEnc: after.access, refreshTokenEnc: after.refresh, credentialsKeyId: after.keyId })
    .where(
      and(
        eq(connections.id, id),
        eq(connections.accessTokenEnc, before.access),
        eq(connections.refreshTokenEnc, before.refresh),
      ),
    )
    .returning({ id: connections.id });

/** Rows whose credentials are under a key other than `activeKeyId`, keyset-paginated by id. */
export const connectionsUnderOldKeys = (db: Db, activeKeyId: string, afterId: string, limit: number) =>
  db
    .select({
      id: connections.id,
      userId: connections.userId,
      accessTokenEnc: connections.accessTokenEnc,
      refreshTokenEnc: connections.refreshTokenEnc,
    })
    .from(connections)
    .where(
      and(
        isNotNull(connections.credentialsKeyId),
        ne(connections.credentialsKeyId, activeKeyId),
        gt(connections.id, afterId),
      ),
    )
    .orderBy(asc(connections.id))
    .limit(limit);

const LIVE: ConnectionStatus[] = ["active", "syncing", "error"];

/** Live connections whose refresh token dies before `before` and that were not yet warned. */
export const connectionsToWarn = (db: Db, before: Date, limit: number) =>
  db
    .select()
    .from(connections)
    .where(
      and(
        inArray(connections.status, LIVE),
        lt(connections.refreshTokenExpiresAt, before),
        isNull(connections.reauthWarnedAt),
      ),
    )
    .orderBy(asc(connections.refreshTokenExpiresAt))
    .limit(limit);

/** Live connections whose refresh token dies before `before`: they need re-authorization now. */
export const connectionsToExpire = (db: Db, before: Date, limit: number) =>
  db
    .select()
    .from(connections)
    .where(and(inArray(connections.status, LIVE), lt(connections.refreshTokenExpiresAt, before)))
    .orderBy(asc(connections.refreshTokenExpiresAt))
    .limit(limit);

/** Live connections whose consent ends before `before` and whose owner was not told yet. */
export const consentsToWarn = (db: Db, before: Date, limit: number) =>
  db
    .select()
    .from(connections)
    .where(
      and(
        inArray(connections.status, LIVE),
        lt(connections.consentExpiresAt, before),
        isNull(connections.consentWarnedAt),
      ),
    )
    .orderBy(asc(connections.consentExpiresAt))
    .limit(limit);

/** Live connections whose consent has ended (or ends before `before`). */
export const consentsToExpire = (db: Db, before: Date, limit: number) =>
  db
    .select()
    .from(connections)
    .where(and(inArray(connections.status, LIVE), lt(connections.consentExpiresAt, before)))
    .orderBy(asc(connections.consentExpiresAt))
    .limit(limit);

/** Marks a live connection `reauth_required` unless its state changed meanwhile. */
export const flagReauthRequired = (db: Db, id: string, patch: ConnectionPatch) =>
  db
    .update(connections)
    .set({ ...patch, status: "reauth_required" })
    .where(and(eq(connections.id, id), inArray(connections.status, LIVE)))
    .returning({ id: connections.id });

/**
 * Pending connections (never completed, so without credentials) created before `before` and with
 * no authorization request still live at `now` (a resumed connect is not purged mid-flow).
 */
export const purgeAbandonedConnections = (db: Db, before: Date, now: Date) =>
  db
    .delete(connections)
    .where(
      and(
        eq(connections.status, "pending"),
        isNull(connections.accessTokenEnc),
        lt(connections.createdAt, before),
        notExists(
          db
            .select({ one: sql`1` })
            .from(oauthStates)
            .where(
              and(
                eq(oauthStates.connectionId, connections.id),
                isNull(oauthStates.usedAt),
                gt(oauthStates.expiresAt, now),
              ),
            ),
        ),
      ),
    )
    .returning({ id: connections.id, userId: connections.userId });
