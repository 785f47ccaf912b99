import { loadConfig } from "../config";
import { createDb } from "../db/client";
import { createLogger } from "../logger";
import { scheduleDueSyncs } from "../services/sync/schedule";
import { runConnectionJobs } from "./connections";
import { purgeExpired } from "./maintenance";
import { syncDepsFor } from "./sync-deps";

/** Cron expressions (wrangler.toml [triggers]) and the jobs each one runs. */
export const CRONS = {
  sync: "*/5 * * * *",
  hourly: "0 * * * *",
} as const;

/** Runs the jobs for one Cron Trigger firing; logs what each did. */
export async function runScheduled(cron: string, env: Env, scheduledTime: number) {
  const config = await loadConfig(env);
  const log = createLogger(config.logLevel, { cron });
  const db = createDb(env.DB);
  const now = new Date(scheduledTime);
  if (cron === CRONS.sync) {
    // Only schedules: one queue message per due connection (ARCHITECTURE.md §4 "Sync").
    log.info("sync schedule", { ...(await scheduleDueSyncs(syncDepsFor(env, config, log), now)) });
    return;
  }
  if (cron === CRONS.hourly) {
    log.info("purge", await purgeExpired(db, now));
    await runConnectionJobs(db, config, log, now);
    return;
  }
  log.warn("no jobs for this cron", {});
}
