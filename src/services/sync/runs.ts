/** Creating runs, sending their messages, and the API view of a run. */

import type { z } from "zod";
import { newId } from "../../crypto/random";
import { findUserConnection } from "../../db/connections";
import type { SyncTrigger } from "../../db/schema";
import { insertRun, listConnectionRuns, type SyncRunRow } from "../../db/sync-runs";
import { notFound } from "../../errors";
import type { SyncRun } from "../../wire/sync";
import { decodeCursor, encodeCursor } from "../cursor";
import type { SyncDeps } from "./deps";
import type { SyncMessage } from "./messages";

/** The wire shape of a run (src/wire/sync.ts). */
export type SyncRunView = z.infer<typeof SyncRun>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function runView(r: SyncRunRow): SyncRunView {
  return {
    id: r.id,
    connection_id: r.connectionId,
    trigger: r.trigger,
    status: r.status,
    attempts: r.attempts,
    queued_at: r.queuedAt.toISOString(),
    started_at: iso(r.startedAt),
    finished_at: iso(r.finishedAt),
    next_attempt_at: r.status === "retrying" ? iso(r.nextAttemptAt) : null,
    stats: r.stats ?? null,
    error: r.errorCode ? { code: r.errorCode, message: r.errorMessage ?? "" } : null,
  };
}

/** A new run's row (for `insertRun`) and the message that will carry it. */
export function newRun(connection: { id: string; userId: string }, trigger: SyncTrigger, key: string, now: Date) {
  const id = newId("syn");
  const idempotencyKey = key.replace("{run}", id);
  const message: SyncMessage = {
    v: 1,
    run_id: id,
    connection_id: connection.id,
    trigger,
    idempotency_key: idempotencyKey,
  };
  return {
    message,
    insert: (deps: Pick<SyncDeps, "db">) =>
      insertRun(deps.db, {
        id,
        connectionId: connection.id,
        userId: connection.userId,
        trigger,
        status: "queued",
        idempotencyKey,
        queuedAt: now,
      }),
  };
}

/** A connection's recent runs, newest first (another user's connection answers 404). */
export async function listRuns(
  deps: Pick<SyncDeps, "db">,
  userId: string,
  connectionId: string,
  limit: number,
  cursor?: string,
) {
  const connection = await findUserConnection(deps.db, userId, connectionId);
  if (!connection) throw notFound("connection");
  const rows = await listConnectionRuns(deps.db, connectionId, limit + 1, decodeCursor(cursor));
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    syncs: page.map(runView),
    next_cursor: rows.length > limit && last ? encodeCursor(last.queuedAt, last.id) : null,
  };
}
