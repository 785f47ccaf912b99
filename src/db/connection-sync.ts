/**
 * The sync engine's view of `connections`: the per-connection sync lease, scheduling (due
 * connections, claims), reconciliation, and what a dead-lettered run does to its connection.
 */
import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import type { ConnectionPatch, ConnectionRow } from "./connections";
import { type ConnectionStatus, connections } from "./schema";

/** Connection statuses a sync may run for (or be scheduled for). */
export const SYNCABLE: ConnectionStatus[] = ["active", "error", "syncing"];

/**
 * Takes the sync lease for run `owner`: one conditional UPDATE, so of any number of racing
 * runs exactly one gets the row. A run may retake its own lease (a retried attempt after a crash).
 * The connection shows `syncing` while the lease is held.
 */
const syncLease = (db: Db, id: string, owner: string, now: Date, until: Date, notCoolingDown: boolean) =>
  db
    .update(connections)
    .set({ syncLockOwner: owner, syncLockUntil: until, status: "syncing" })
    .where(
      and(
        eq(connections.id, id),
        inArray(connections.status, SYNCABLE),
        isNotNull(connections.accessTokenEnc),
        notCoolingDown ? or(isNull(connections.cooldownUntil), lte(connections.cooldownUntil, now)) : undefined,
        or(
          isNull(connections.syncLockUntil),
          lte(connections.syncLockUntil, now),
          eq(connections.syncLockOwner, owner),
        ),
      ),
    )
    .returning({ id: connections.id });

export const acquireSyncLease = (db: Db, id: string, owner: string, now: Date, until: Date) =>
  db
    .update(connections)
    .set({ syncLockOwner: owner, syncLockUntil: until, status: "syncing" })
    .where(
      and(
        eq(connections.id, id),
        inArray(connections.status, SYNCABLE),
        isNotNull(connections.accessTokenEnc),
        or(
          isNull(connections.syncLockUntil),
          lte(connections.syncLockUntil, now),
          eq(connections.syncLockOwner, owner),
        ),
      ),
    )
    .returning()
    .get();

/**
 * Takes the sync lease for run `owner` and reads the connection, in one round trip: whether the
 * lease was taken, and the row as it is after (absent when the connection is gone). With
 * `notCoolingDown`, a connection still cooling down is not leased either.
 */
export async function leaseForSync(
  db: Db,
  id: string,
  owner: string,
  now: Date,
  until: Date,
  options: { notCoolingDown: boolean },
): Promise<{ leased: boolean; row: ConnectionRow | undefined }> {
  const [leased, rows] = await db.batch([
    syncLease(db, id, owner, now, until, options.notCoolingDown),
    db.select().from(connections).where(eq(connections.id, id)),
  ]);
  return { leased: leased.length > 0, row: rows[0] };
}

/**
 * Writes a sync's outcome and releases the lease; updates nothing if `owner` lost it. A
 * `reauth_required` set meanwhile (the credential-health job, a refresh) survives the outcome.
 */
export const updateUnderSyncLease = (db: Db, id: string, owner: string, patch: ConnectionPatch) =>
  db
    .update(connections)
    .set({
      ...patch,
      ...(patch.status && patch.status !== "reauth_required"
        ? {
            status: sql`CASE WHEN ${connections.status} = 'reauth_required' THEN 'reauth_required' ELSE ${patch.status} END`,
          }
        : {}),
      syncLockOwner: null,
      syncLockUntil: null,
    })
    .where(and(eq(connections.id, id), eq(connections.syncLockOwner, owner)))
    .returning({ id: connections.id });

/**
 * Connections due for a scheduled sync: live, with credentials, `next_sync_at` passed (or never
 * set), not cooling down and not leased; keyset-paginated by id so a tick reads bounded pages,
 * within [afterId, beforeId) when a sweep works one slice of the id space.
 */
export const dueConnections = (db: Db, now: Date, afterId: string, limit: number, beforeId?: string) =>
  db
    .select({ id: connections.id, userId: connections.userId, nextSyncAt: connections.nextSyncAt })
    .from(connections)
    .where(
      and(
        inArray(connections.status, ["active", "error"]),
        isNotNull(connections.accessTokenEnc),
        or(isNull(connections.nextSyncAt), lte(connections.nextSyncAt, now)),
        or(isNull(connections.cooldownUntil), lte(connections.cooldownUntil, now)),
        or(isNull(connections.syncLockUntil), lte(connections.syncLockUntil, now)),
        gt(connections.id, afterId),
        beforeId === undefined ? undefined : lt(connections.id, beforeId),
      ),
    )
    .orderBy(asc(connections.id))
    .limit(limit);

/**
 * Claims a connection for a queued run: pushes `next_sync_at` past the run's horizon (so the
 * cron does not queue it again meanwhile) and stamps `last_sync_requested_at`. With
 * `notRequestedSince`, only if no run was queued after that time (the manual-sync spacing),
 * decided in the same statement so two racing requests cannot both pass.
 */
export const claimForSync = (db: Db, id: string, now: Date, horizon: Date, notRequestedSince?: Date) =>
  db
    .update(connections)
    .set({ nextSyncAt: horizon, lastSyncRequestedAt: now })
    .where(
      and(
        eq(connections.id, id),
        notRequestedSince
          ? or(isNull(connections.lastSyncRequestedAt), lte(connections.lastSyncRequestedAt, notRequestedSince))
          : undefined,
      ),
    )
    .returning({ id: connections.id });

/** Live connections without a successful sync since `before`, not yet reported. */
export const staleConnections = (db: Db, before: Date, limit: number) =>
  db
    .select()
    .from(connections)
    .where(
      and(
        inArray(connections.status, SYNCABLE),
        isNotNull(connections.accessTokenEnc),
        isNull(connections.staleReportedAt),
        or(
          lt(connections.lastSyncedAt, before),
          and(isNull(connections.lastSyncedAt), lt(connections.createdAt, before)),
        ),
      ),
    )
    .orderBy(asc(connections.id))
    .limit(limit);

/**
 * Releases sync leases that outlived their term (a consumer that died mid-run) and returns such
 * connections from `syncing` to `active`; the next run decides their real state.
 */
export const releaseExpiredSyncLeases = (db: Db, now: Date) =>
  db
    .update(connections)
    .set({
      syncLockOwner: null,
      syncLockUntil: null,
      status: sql`CASE WHEN ${connections.status} = 'syncing' THEN 'active' ELSE ${connections.status} END`,
    })
    .where(and(isNotNull(connections.syncLockUntil), lte(connections.syncLockUntil, now)))
    .returning({ id: connections.id });

/** Marks a connection reported stale (once, until its next success clears it). */
export const markStaleReported = (db: Db, id: string, now: Date) =>
  db
    .update(connections)
    .set({ staleReportedAt: now })
    .where(and(eq(connections.id, id), isNull(connections.staleReportedAt)));

/**
 * Applies a dead-lettered run's outcome to its connection: only while the connection is still
 * syncable and no other run holds the lease (the dead run's own lease is released).
 */
export const updateConnectionAfterDeadLetter = (db: Db, id: string, runId: string, now: Date, patch: ConnectionPatch) =>
  db
    .update(connections)
    .set({ ...patch, syncLockOwner: null, syncLockUntil: null })
    .where(
      and(
        eq(connections.id, id),
        inArray(connections.status, SYNCABLE),
        or(
          isNull(connections.syncLockOwner),
          eq(connections.syncLockOwner, runId),
          lte(connections.syncLockUntil, now),
        ),
      ),
    );
