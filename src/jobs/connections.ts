/**
 * The hourly connection upkeep: purge dead authorization requests, credential health, re-wrap,
 * sync reconciliation.
 */
import type { Config } from "../config";
import type { Db } from "../db/client";
import { purgeAbandonedConnections } from "../db/connections";
import { purgeOAuthStates } from "../db/oauth-states";
import { purgeFinishedRuns } from "../db/sync-runs";
import type { Logger } from "../logger";
import { reconcileSync } from "../services/sync/reconcile";
import { checkCredentialHealth } from "./credential-health";
import { rewrapCredentials } from "./rewrap";

const DAY = 86_400_000;
/** Finished sync runs are kept this long for `GET /connections/{id}/syncs` and support. */
const RUN_RETENTION_DAYS = 90;

/**
 * Runs each part even when an earlier one fails (they are independent), then rethrows the first
 * failure so the cron invocation is marked failed.
 */
export async function runConnectionJobs(db: Db, config: Config, log: Logger, now: Date) {
  const dayAgo = new Date(now.getTime() - DAY);
  const jobs: [string, () => Promise<unknown>][] = [
    [
      "purge connections",
      async () => {
        // Spent or expired states are kept a day so a late replay can still be explained.
        const [states, abandoned] = await db.batch([
          purgeOAuthStates(db, dayAgo),
          purgeAbandonedConnections(db, dayAgo, now),
        ]);
        return { oauth_states: states.length, abandoned_connections: abandoned.length };
      },
    ],
    ["credential health", () => checkCredentialHealth(db, now, config.providers.reauthWarningMs)],
    ["rewrap", () => rewrapCredentials(db, config.encryption.keyring, log, now)],
    ["reconcile sync", () => reconcileSync(db, config.sync, now)],
    [
      "purge sync runs",
      async () => ({
        sync_runs: (await purgeFinishedRuns(db, new Date(now.getTime() - RUN_RETENTION_DAYS * DAY), 1000)).meta.changes,
      }),
    ],
  ];
  let firstError: unknown = null;
  for (const [name, job] of jobs) {
    try {
      log.info(name, (await job()) as Record<string, unknown>);
    } catch (err) {
      log.error(`${name} failed`, { error: err instanceof Error ? err.message : String(err) });
      firstError ??= err;
    }
  }
  if (firstError) throw firstError;
}
