/**
 * The sync cron's job: find due connections and queue one run each; it never calls a provider.
 * A tick works the first pages itself; if more are due it fans the rest of the connection id
 * space out as sweep messages (one per slice), which the queue's consumers work in parallel and
 * continue on their own, so the tick's cost stays flat while the work grows with the number of
 * connections (docs/capacity.md). Each run's idempotency key names the connection and the due
 * time it was queued for, so overlapping ticks or a redelivered sweep queue a slot once. A run is
 * recorded in its user's home before its message is sent; if the send fails, the home sends it
 * again.
 */
import { batchAll } from "../../db/batch";
import { claimForSync, dueConnections } from "../../db/connection-sync";
import type { SweepMessage } from "../../home/messages";
import type { SyncDeps } from "./deps";
import { newRun, recordRun } from "./runs";
import { runHorizon } from "./timing";

/** Queues `sendBatch` takes at most 100 messages: one page is one batch. */
export const SCHEDULE_PAGE_SIZE = 100;
/** Pages the tick works itself before fanning out (a small deployment never needs a sweep). */
export const TICK_PAGES = 2;
/**
 * Pages one sweep message works before sending its continuation: each page is ~100 calls to
 * users' homes plus a few D1 batches, well inside one invocation's subrequest budget.
 */
export const SWEEP_PAGES = 5;

/**
 * Slice boundaries: ids are `con_` + base64url, so the first random character spreads them
 * evenly over 64 values, in 16 slices of 4 (ASCII order: `-`, digits, upper case, `_`, lower case).
 */
const ALPHABET = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
export const SWEEP_SLICES = 16;
const BOUNDS = Array.from({ length: SWEEP_SLICES - 1 }, (_, i) => `con_${ALPHABET[(i + 1) * 4]}`);

/** What one tick (or one sweep message) did. */
export interface ScheduleReport {
  disabled: boolean;
  queued: number;
  already_queued: number;
  enqueue_failures: number;
  /** Runs not recorded because their user's home could not be reached (still due). */
  home_failures: number;
  /** Sweep messages sent (slices fanned out, or a sweep's continuation). */
  sweeps: number;
}

const emptyReport = (disabled: boolean): ScheduleReport => ({
  disabled,
  queued: 0,
  already_queued: 0,
  enqueue_failures: 0,
  home_failures: 0,
  sweeps: 0,
});

/** The slices of the id space after `after`, as sweep messages for the tick at `now`. */
export function sweepsAfter(after: string, now: Date, traceId?: string): SweepMessage[] {
  const cuts = BOUNDS.filter((b) => b > after);
  return [...cuts, null].map((to, i) => ({
    v: 1,
    kind: "sweep",
    after: i === 0 ? after : (cuts[i - 1] as string),
    to,
    due_at: now.getTime(),
    ...(traceId ? { trace_id: traceId } : {}),
  }));
}

/**
 * Works up to `pages` pages of due connections in (after, to); returns where it stopped (null:
 * the range is done).
 */
/** Budgets, overridable so tests can reach a continuation without thousands of connections. */
export interface Budget {
  pages?: number;
  pageSize?: number;
}

async function work(
  deps: SyncDeps,
  report: ScheduleReport,
  range: { after: string; to: string | null },
  now: Date,
  pages: number,
  pageSize: number,
): Promise<string | null> {
  const horizon = runHorizon(now, deps.config.sync);
  let after = range.after;
  for (let page = 0; page < pages; page++) {
    const due = await dueConnections(deps.db, now, after, pageSize, range.to ?? undefined);
    if (due.length === 0) return null;
    after = due[due.length - 1]?.id ?? after;
    await queuePage(deps, report, due, now, horizon);
    if (due.length < pageSize) return null;
  }
  return after;
}

async function queuePage(
  deps: SyncDeps,
  report: ScheduleReport,
  due: { id: string; userId: string; nextSyncAt: Date | null }[],
  now: Date,
  horizon: Date,
) {
  const planned = due.map((c) => ({
    connection: c,
    run: newRun(
      c,
      "scheduled",
      `scheduled:${c.id}:${c.nextSyncAt?.getTime() ?? 0}`,
      horizon.getTime() - now.getTime(),
      deps.trace.traceId,
    ),
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
  if (fresh.length === 0) return;
  try {
    await deps.queue.sendBatch(fresh.map(({ run }) => ({ body: run.message, contentType: "json" })));
    report.queued += fresh.length;
  } catch (err) {
    // The runs are recorded: their homes send them again shortly (the outbox).
    deps.logger.error("sync enqueue failed; the outbox will resend", { error: String(err), runs: fresh.length });
    report.enqueue_failures += fresh.length;
  }
}

async function sendSweeps(deps: SyncDeps, report: ScheduleReport, sweeps: SweepMessage[]) {
  // A failed send leaves those connections due: the next tick reaches them again.
  await deps.queue.sendBatch(sweeps.map((body) => ({ body, contentType: "json" })));
  report.sweeps += sweeps.length;
}

/** The cron tick: the first pages itself, then one sweep message per remaining slice. */
export async function scheduleDueSyncs(deps: SyncDeps, now: Date, budget: Budget = {}): Promise<ScheduleReport> {
  const report = emptyReport(deps.config.sync.disabled);
  if (report.disabled) return report;
  const range = { after: "", to: null };
  const stopped = await work(
    deps,
    report,
    range,
    now,
    budget.pages ?? TICK_PAGES,
    budget.pageSize ?? SCHEDULE_PAGE_SIZE,
  );
  if (stopped !== null) await sendSweeps(deps, report, sweepsAfter(stopped, now, deps.trace.traceId));
  return report;
}

/** One sweep message: its slice's pages within budget, then its continuation if more are due. */
export async function sweepSlice(deps: SyncDeps, sweep: SweepMessage, budget: Budget = {}): Promise<ScheduleReport> {
  const report = emptyReport(deps.config.sync.disabled);
  if (report.disabled) return report;
  const now = new Date(sweep.due_at);
  const stopped = await work(
    deps,
    report,
    sweep,
    now,
    budget.pages ?? SWEEP_PAGES,
    budget.pageSize ?? SCHEDULE_PAGE_SIZE,
  );
  if (stopped !== null) await sendSweeps(deps, report, [{ ...sweep, after: stopped }]);
  return report;
}
