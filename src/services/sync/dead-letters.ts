/**
 * Dead letters: runs that used up their attempts. The DLQ consumer records each once and puts
 * its connection in `error`; administrators list them and replay one as a new run.
 */

import { newId } from "../../crypto/random";
import { claimForSync, updateConnectionAfterDeadLetter } from "../../db/connection-sync";
import { findConnection } from "../../db/connections";
import {
  type DeadLetterRow,
  findDeadLetter,
  insertDeadLetter,
  listDeadLetters,
  markReplayed,
} from "../../db/dead-letters";
import { fail, notFound } from "../../errors";
import { liveEvent } from "../../home/events";
import type { SyncTrigger } from "../../home/ledger/rows";
import type { DeadLetterMessage } from "../../home/messages";
import { connectionAudit } from "../connections/audit";
import { notConnected, reauthRequired } from "../connections/errors";
import { lastErrorMessage } from "../connections/last-error";
import type { RequestMeta } from "../context";
import { jobMeta } from "../context";
import { decodeCursor, encodeCursor } from "../cursor";
import type { SyncDeps } from "./deps";
import { failedPatch } from "./outcome";
import { syncDisabled } from "./request";
import { newRun, recordRunOrGone } from "./runs";
import { runHorizon } from "./timing";

/** The wire shape of a dead letter (admin API). */
export interface DeadLetterView {
  id: string;
  run_id: string;
  connection_id: string;
  user_id: string;
  trigger: SyncTrigger;
  attempts: number;
  error: { code: string; message: string };
  dead_lettered_at: string;
  replayed_at: string | null;
  replay_run_id: string | null;
  replayed_by: string | null;
}

export const deadLetterView = (d: DeadLetterRow): DeadLetterView => ({
  id: d.id,
  run_id: d.runId,
  connection_id: d.connectionId,
  user_id: d.userId,
  trigger: d.trigger,
  attempts: d.attempts,
  error: { code: d.errorCode, message: d.errorMessage },
  dead_lettered_at: d.deadLetteredAt.toISOString(),
  replayed_at: d.replayedAt?.toISOString() ?? null,
  replay_run_id: d.replayRunId,
  replayed_by: d.replayedBy,
});

/**
 * Records one dead letter (idempotent per run), marks the run `dead_lettered`, and puts the
 * connection in `error` with a counted failure (and a cooldown once failures repeat), releasing
 * the lease if the run still held it. Returns false for a duplicate or a deleted connection.
 */
export async function recordDeadLetter(deps: SyncDeps, body: DeadLetterMessage): Promise<boolean> {
  const now = deps.now();
  const row = await findConnection(deps.db, body.connection_id);
  if (!row) return false;
  const run = await deps.homes.findRun(row.userId, body.run_id);
  if (!run) return false;
  const error = body.error ?? {
    code: run.errorCode ?? "sync_crashed",
    message: run.errorMessage ?? "The sync crashed on every delivery; Queues gave up on it.",
  };
  const [inserted] = await insertDeadLetter(deps.db, {
    id: newId("dlq"),
    runId: run.id,
    connectionId: row.id,
    userId: row.userId,
    trigger: run.trigger,
    attempts: Math.max(run.attempts, body.attempts ?? 0),
    errorCode: error.code,
    errorMessage: error.message,
    deadLetteredAt: now,
  });
  if (!inserted) return false;
  deps.metrics.deadLetter({ queue: "sync", source: body.error ? "consumer" : "queues", errorCode: error.code });
  const patch = failedPatch(
    row,
    // The run is over: the connection's last_error must not promise a retry that will not come.
    { kind: "fatal", code: error.code, message: lastErrorMessage("dead_lettered") },
    now,
    deps.config.sync,
  );
  await deps.homes.fail(row.userId, run.id, { status: "dead_lettered", error }, [
    liveEvent("sync.failed", { connection_id: row.id, sync_id: run.id, error }, now),
  ]);
  await deps.db.batch([
    updateConnectionAfterDeadLetter(deps.db, row.id, run.id, now, patch),
    connectionAudit(deps.db, jobMeta(deps), now, {
      action: "sync.dead_lettered",
      outcome: "failure",
      userId: row.userId,
      connectionId: row.id,
      provider: row.provider,
      details: { run_id: run.id, dead_letter_id: inserted.id, attempts: inserted.attempts, code: error.code },
    }),
  ]);
  return true;
}

/** Admin listing, newest first. */
export async function deadLetters(
  deps: Pick<SyncDeps, "db">,
  f: { state: "open" | "replayed" | "all"; limit: number; cursor?: string },
) {
  const rows = await listDeadLetters(deps.db, { state: f.state, limit: f.limit + 1, after: decodeCursor(f.cursor) });
  const page = rows.slice(0, f.limit);
  const last = page.at(-1);
  return {
    dead_letters: page.map(deadLetterView),
    next_cursor: rows.length > f.limit && last ? encodeCursor(last.deadLetteredAt, last.id) : null,
  };
}

/**
 * Replays a dead letter as a new run (trigger `replay`, fresh attempts; the manual spacing and
 * the cooldown do not apply: an administrator decided). Each dead letter replays once.
 */
export async function replayDeadLetter(deps: SyncDeps, meta: RequestMeta, actorId: string, id: string) {
  if (deps.config.sync.disabled) throw syncDisabled();
  const letter = await findDeadLetter(deps.db, id);
  if (!letter) throw notFound("dead letter");
  if (letter.replayedAt) throw alreadyReplayed(letter);
  const row = await findConnection(deps.db, letter.connectionId);
  if (!row) throw notFound("connection");
  if (row.status === "reauth_required") throw reauthRequired();
  if (!row.accessTokenEnc || row.status === "pending" || row.status === "disconnected") throw notConnected();

  const now = deps.now();
  const horizonMs = runHorizon(now, deps.config.sync).getTime() - now.getTime();
  const run = newRun(row, "replay", `replay:${letter.id}`, horizonMs, deps.trace.traceId);
  const [marked] = await markReplayed(deps.db, letter.id, {
    replayedAt: now,
    replayRunId: run.message.run_id,
    replayedBy: actorId,
  });
  if (!marked) throw alreadyReplayed(letter);
  await recordRunOrGone(deps, row.userId, run);
  await deps.db.batch([
    claimForSync(deps.db, row.id, now, runHorizon(now, deps.config.sync)),
    connectionAudit(deps.db, meta, now, {
      action: "sync.replayed",
      outcome: "success",
      userId: row.userId,
      actorId,
      connectionId: row.id,
      provider: row.provider,
      details: { dead_letter_id: letter.id, run_id: run.message.run_id, replayed_run_id: letter.runId },
    }),
  ]);
  await deps.queue.send(run.message, { contentType: "json" });
  return { sync: { id: run.message.run_id, status: "queued" as const }, dead_letter: deadLetterView(marked) };
}

function alreadyReplayed(letter: DeadLetterRow) {
  return fail("already_replayed", "This dead letter was already replayed.", {
    extensions: { replay_run_id: letter.replayRunId },
  });
}
