/** Creating runs (recorded in the user's home before their message is sent) and their API view. */
import type { z } from "zod";
import { newId } from "../../crypto/random";
import { findUserConnection } from "../../db/connections";
import { notFound } from "../../errors";
import type { SyncRunRow, SyncTrigger } from "../../home/ledger/rows";
import type { SyncMessage } from "../../home/messages";
import type { SyncRun } from "../../wire/sync";
import { encodeCursor } from "../cursor";
import type { SyncDeps } from "./deps";

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
    trace_id: r.traceId,
  };
}

/**
 * A new run (its id and idempotency key) and the message that will carry it. `horizonMs`: how long
 * it may take, every attempt with its backoff, before the home counts it lost (./timing.ts).
 */
export function newRun(
  connection: { id: string },
  trigger: SyncTrigger,
  key: string,
  horizonMs: number,
  traceId?: string,
) {
  const id = newId("syn");
  const idempotencyKey = key.replace("{run}", id);
  const message: SyncMessage = {
    v: 1,
    run_id: id,
    connection_id: connection.id,
    trigger,
    idempotency_key: idempotencyKey,
    ...(traceId ? { trace_id: traceId } : {}),
  };
  return { message, spec: { id, connectionId: connection.id, trigger, idempotencyKey, horizonMs, traceId } };
}

/**
 * Records the run in the user's home (the outbox) before anything is sent: if this Worker dies
 * before the message leaves, the home sends it again (src/home/ledger/run-store.ts). Returns the run and
 * whether this call created it (its idempotency key may exist already); `run: null` when the
 * home refused it (the connection was deleted meanwhile).
 */
export async function recordRun(deps: Pick<SyncDeps, "homes">, userId: string, run: ReturnType<typeof newRun>) {
  return deps.homes.recordRun(userId, run.spec);
}

/** Records a run for a connection the caller just read from D1: one deleted meanwhile is 404. */
export async function recordRunOrGone(deps: Pick<SyncDeps, "homes">, userId: string, run: ReturnType<typeof newRun>) {
  const begun = await recordRun(deps, userId, run);
  if (!begun.run) throw notFound("connection");
  return begun;
}

/**
 * A page of a connection's runs, newest first, from `limit + 1` read (the extra says "more"). An
 * empty page asks D1, the only owner of connections, whether the connection is the user's at all:
 * another user's is indistinguishable from a missing one.
 */
export async function runsPage(
  deps: Pick<SyncDeps, "db">,
  userId: string,
  connectionId: string,
  answer: { runs: SyncRunRow[] },
  limit: number,
) {
  if (answer.runs.length === 0 && !(await findUserConnection(deps.db, userId, connectionId))) {
    throw notFound("connection");
  }
  const page = answer.runs.slice(0, limit);
  const last = page.at(-1);
  return {
    syncs: page.map(runView),
    next_cursor: answer.runs.length > limit && last ? encodeCursor(last.queuedAt, last.id) : null,
  };
}
