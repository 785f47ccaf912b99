import { loadConfig } from "../config";
import { createDeps } from "../deps";
import { createLogger } from "../logger";
import { resendPendingEmails } from "../services/email/pending";
import { scheduleDueSyncs } from "../services/sync/schedule";
import { newTrace } from "../trace";
import { runHourlyJobs } from "./hourly";

/** Cron expressions (wrangler.toml [triggers]) and the jobs each one runs. */
export const CRONS = {
  sync: "*/5 * * * *",
  hourly: "0 * * * *",
} as const;

/** Runs the jobs for one Cron Trigger firing; logs what each did. */
export async function runScheduled(cron: string, env: Env, scheduledTime: number, ctx: ExecutionContext) {
  const config = await loadConfig(env);
  // Each tick is a trace of its own: its runs, their messages and the rows they write carry it.
  const trace = newTrace();
  const log = createLogger(config.logLevel, { cron, trace_id: trace.traceId });
  const deps = createDeps(env, config, { logger: log, defer: (work) => ctx.waitUntil(work), trace });
  const now = new Date(scheduledTime);
  if (cron === CRONS.sync) {
    // Emails a queue outage kept back (docs/design.md "Identity"). Independent of scheduling:
    // a failure of one never stops the other.
    let pendingFailure: unknown = null;
    try {
      const pending = await resendPendingEmails(deps);
      if (pending.pending_emails_sent || pending.queue_unavailable) log.info("pending emails", pending);
    } catch (err) {
      log.error("pending emails failed", { error: err instanceof Error ? err.message : String(err) });
      pendingFailure = err;
    }
    // Only schedules: one queue message per due connection (docs/design.md "Sync").
    log.info("sync schedule", { ...(await scheduleDueSyncs(deps, now)) });
    if (pendingFailure) throw pendingFailure;
    return;
  }
  if (cron === CRONS.hourly) {
    await runHourlyJobs(deps, now);
    return;
  }
  log.warn("no jobs for this cron", {});
}
