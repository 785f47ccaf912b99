/**
 * The sync cron's whole job: find due connections in bounded pages and queue one run each. It
 * never calls a provider. Each run's idempotency key names the connection and the due time it
 * was queued for, so overlapping or repeated cron firings queue a slot once. A run is recorded in
 * its user's home before its message is sent; if the send fails, the home sends it again.
 */
import { batchAll } from "../../db/batch";
import { claimForSync, dueConnections } from "../../db/connection-sync";
import type { SyncDeps } from "./deps";
import { newRun, recordRun } from "./runs";
import { runHorizon } from "./timing";

/** Queues `sendBatch` takes at most 100 messages: one page is one batch. */
export const SCHEDULE_PAGE_SIZE = 100;
/** Pages per cron tick (2,000 connections); the rest are still due at the next tick, 5 minutes on. */
export const SCHEDULE_MAX_PAGES = 20;

/** What one tick did. */
export interface ScheduleReport {
  disabled: boolean;
  queued: number;
  already_queued: number;
  enqueue_failures: number;
  /** Runs not recorded because their user's home could not be reached (still due). */
  home_failures: number;
}

/** Queues a run for every due connection (nothing at all under the kill switch). */
export async function scheduleDueSyncs(deps: SyncDeps, now: Date): Promise<ScheduleReport> {
  const report: ScheduleReport = {
    disabled: deps.config.sync.disabled,
    queued: 0,
    already_queued: 0,
    enqueue_failures: 0,
    home_failures: 0,
  };
  if (report.disabled) return report;
  const horizon = runHorizon(now, deps.config.sync);
  let after = "";
  for (let page = 0; page < SCHEDULE_MAX_PAGES; page++) {
    const due = await dueConnections(deps.db, now, after, SCHEDULE_PAGE_SIZE);
    if (due.length === 0) break;
    after = due[due.length - 1]?.id ?? after;
    const planned = due.map((c) => ({
      connection: c,
      run: newRun(c, "scheduled", `scheduled:${c.id}:${c.nextSyncAt?.getTime() ?? 0}`),
    }));
    // Record each run in its user's home first (idempotent on the key), then claim what was
    // recorded. A home that cannot be reached leaves its connection due for the next tick.
    const outcomes = await Promise.allSettled(
      planned.map(({ connection, run }) => recordRun(deps, connection.userId, run)),
    );
    const recorded = planned.flatMap((p, i) => {
      const o = outcomes[i];
      if (o?.status === "fulfilled") return [{ ...p, created: o.value.created }];
      deps.logger.error("sync run not recorded", { connection_id: p.connection.id, error: String(o?.reason) });
      return [];
    });
    report.home_failures += planned.length - recorded.length;
    await batchAll(
      deps.db,
      recorded.map(({ connection }) => claimForSync(deps.db, connection.id, now, horizon)),
    );
    const fresh = recorded.filter((r) => r.created);
    report.already_queued += recorded.length - fresh.length;
    if (fresh.length === 0) continue;
    try {
      await deps.queue.sendBatch(fresh.map(({ run }) => ({ body: run.message, contentType: "json" })));
      report.queued += fresh.length;
    } catch (err) {
      // The runs are recorded: their homes send them again shortly (the outbox).
      deps.logger.error("sync enqueue failed; the outbox will resend", { error: String(err), runs: fresh.length });
      report.enqueue_failures += fresh.length;
    }
  }
  return report;
}
