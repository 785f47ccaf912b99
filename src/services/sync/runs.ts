/** Creating runs (recorded in the user's home before their message is sent) and their API view. */
import type { z } from "zod";
import { newId } from "../../crypto/random";
import { notFound } from "../../errors";
import type { SyncRunRow, SyncTrigger } from "../../ledger/rows";
import type { SyncRun } from "../../wire/sync";
import { isOwnConnection } from "../connections/known";
import { encodeCursor } from "../cursor";
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

/** A new run (its id and idempotency key) and the message that will carry it. */
export function newRun(connection: { id: string }, trigger: SyncTrigger, key: string) {
  const id = newId("syn");
  const idempotencyKey = key.replace("{run}", id);
  const message: SyncMessage = {
    v: 1,
    run_id: id,
    connection_id: connection.id,
    trigger,
    idempotency_key: idempotencyKey,
  };
  return { message, spec: { id, connectionId: connection.id, trigger, idempotencyKey } };
}

/**
 * Records the run in the user's home (the outbox) before anything is sent: if this Worker dies
 * before the message leaves, the home sends it again (src/ledger/runs.ts). Returns the run and
 * whether this call created it (its idempotency key may exist already); `run: null` when the
 * home refused it (the connection was deleted meanwhile).
 */
export async function recordRun(deps: Pick<SyncDeps, "gate">, userId: string, run: ReturnType<typeof newRun>) {
  return deps.gate.home(userId).beginRun(run.spec);
}

/** Records a run for a connection the caller just read from D1: one deleted meanwhile is 404. */
export async function recordRunOrGone(deps: Pick<SyncDeps, "gate">, userId: string, run: ReturnType<typeof newRun>) {
  const begun = await recordRun(deps, userId, run);
  if (!begun.run) throw notFound("connection");
  return begun;
}

/** A page of a connection's runs, newest first, from `limit + 1` read (the extra says "more"). */
export async function runsPage(
  deps: Parameters<typeof isOwnConnection>[0],
  userId: string,
  connectionId: string,
  answer: { known: boolean; runs: SyncRunRow[] },
  limit: number,
) {
  // Another user's connection is indistinguishable from a missing one.
  if (!answer.known && !(await isOwnConnection(deps, userId, connectionId))) throw notFound("connection");
  const page = answer.runs.slice(0, limit);
  const last = page.at(-1);
  return {
    syncs: page.map(runView),
    next_cursor: answer.runs.length > limit && last ? encodeCursor(last.queuedAt, last.id) : null,
  };
}
