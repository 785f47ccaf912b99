/**
 * Manual sync (`POST /api/v1/connections/{id}/sync`): queue a run now, at most once per
 * SYNC_MANUAL_MIN_INTERVAL_SECONDS (5 minutes) after the connection's last queued run of any
 * trigger, never while the provider asked us to back off, never under the kill switch.
 */

import { claimForSync } from "../../db/connection-sync";
import { findUserConnection } from "../../db/connections";
import { fail, notFound } from "../../errors";
import type { SyncRunStatus } from "../../home/ledger/rows";
import { messageOf, RESEND_AFTER_MS } from "../../home/ledger/run-store";
import { connectionAudit } from "../connections/audit";
import { notConnected, reauthRequired } from "../connections/errors";
import type { RequestMeta } from "../context";
import { cadenceOf } from "./config";
import type { SyncDeps } from "./deps";
import { newRun, recordRunOrGone } from "./runs";
import { runHorizon } from "./timing";

export const syncDisabled = () =>
  fail("sync_disabled", "Syncing is switched off for maintenance; try again later.", {
    retryAfterSeconds: 300,
  });

function tooSoon(until: Date, now: Date, why: string) {
  const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return fail("sync_too_soon", why, {
    // RFC 9110 §10.2.3: delay-seconds.
    retryAfterSeconds: seconds,
    extensions: { retry_at: until.toISOString() },
  });
}

/** 429 before any provider call: the connection's share of the provider's daily calls is spent. */
function quotaExhausted(until: Date, now: Date) {
  const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return fail(
    "provider_quota_exhausted",
    "This connection used its share of the provider's calls for the day; it can sync again at retry_at.",
    { retryAfterSeconds: seconds, extensions: { retry_at: until.toISOString() } },
  );
}

/** What the client gets: the run (`queued`, or the one already under way). */
export interface SyncRequested {
  id: string;
  status: SyncRunStatus;
  /** False when a run of this connection was already queued or running and is returned instead. */
  created: boolean;
}

export async function requestSync(
  deps: SyncDeps,
  meta: RequestMeta,
  userId: string,
  connectionId: string,
): Promise<SyncRequested> {
  if (deps.config.sync.disabled) throw syncDisabled();
  const row = await findUserConnection(deps.db, userId, connectionId);
  if (!row) throw notFound("connection");
  if (row.status === "reauth_required") throw reauthRequired();
  if (!row.accessTokenEnc || row.status === "pending" || row.status === "disconnected") throw notConnected();

  const running = await deps.homes.inFlightRun(userId, row.id);
  if (running) {
    // A run recorded but never picked up (its message was lost: a Worker died between the two):
    // send it again rather than report a run that will not move.
    const now = deps.now();
    if (running.status === "queued" && now.getTime() - running.sentAt.getTime() >= RESEND_AFTER_MS) {
      await deps.queue.send(messageOf(running), { contentType: "json" });
      await deps.homes.runSent(userId, running.id);
      deps.logger.warn("stuck sync run sent again", { run_id: running.id, connection_id: row.id });
    }
    return { id: running.id, status: running.status, created: false };
  }

  const now = deps.now();
  if (row.cooldownUntil && row.cooldownUntil > now) {
    throw tooSoon(row.cooldownUntil, now, "The provider asked us to back off; this connection cannot sync until then.");
  }
  // The connection's share of its provider's calls, checked before any call is made.
  const { quota } = cadenceOf(deps.config.sync, row.provider);
  if (quota) {
    const room = await deps.homes.quotaRoom(userId, row.id, quota);
    if (room.retryAt !== null) throw quotaExhausted(new Date(room.retryAt), now);
  }
  const minInterval = deps.config.sync.manualMinIntervalMs;
  const [claimed] = await claimForSync(
    deps.db,
    row.id,
    now,
    runHorizon(now, deps.config.sync),
    new Date(now.getTime() - minInterval),
  );
  if (!claimed) {
    const last = (await findUserConnection(deps.db, userId, connectionId))?.lastSyncRequestedAt ?? now;
    throw tooSoon(
      new Date(last.getTime() + minInterval),
      now,
      `This connection synced less than ${Math.round(minInterval / 60_000)} minutes ago.`,
    );
  }

  const horizonMs = runHorizon(now, deps.config.sync).getTime() - now.getTime();
  const run = newRun(row, "manual", "manual:{run}", horizonMs, deps.trace.traceId);
  await recordRunOrGone(deps, userId, run);
  await connectionAudit(deps.db, meta, now, {
    action: "sync.requested",
    outcome: "success",
    userId,
    connectionId: row.id,
    provider: row.provider,
    details: { run_id: run.message.run_id },
  });
  try {
    await deps.queue.send(run.message, { contentType: "json" });
  } catch (err) {
    // The run is recorded: the user's home sends it again shortly (the outbox), so the answer is
    // still "queued". Logged, because a queue that refuses sends is an operator's problem.
    deps.logger.error("sync enqueue failed; the outbox will resend", {
      error: String(err),
      run_id: run.message.run_id,
    });
  }
  return { id: run.message.run_id, status: "queued", created: true };
}
