/**
 * The hourly Cron Trigger's jobs: purge expired identity rows, dead authorization requests and
 * credential health; key re-wrap; the cross-user half of sync reconciliation; erasing the homes
 * of deleted accounts that could not be erased at once; dropping week-old sealed messages of
 * email dead letters. (Each user's home
 * object purges its own old runs and checks its own pending transactions, src/home/home.ts.)
 */

import { purgeAbandonedConnections } from "../db/connections";
import { purgeOAuthStates } from "../db/oauth-states";
import { purgeOutcomes } from "../db/outcomes";
import type { Deps } from "../deps";
import { checkCredentialHealth } from "../services/connections/credential-health";
import { rewrapCredentials } from "../services/connections/rewrap";
import { purgeSealedEmails } from "../services/email/pending";
import { finishErasures } from "../services/identity/erase";
import { refreshStaleCatalogues } from "../services/institutions/catalogue";
import { reconcileSync } from "../services/sync/reconcile";
import { purgeExpired } from "./maintenance";

const DAY = 86_400_000;

/**
 * Runs each part even when an earlier one fails (they are independent), then rethrows the first
 * failure so the cron invocation is marked failed.
 */
export async function runHourlyJobs(
  deps: Pick<
    Deps,
    "db" | "config" | "logger" | "homes" | "limiter" | "now" | "mailer" | "providers" | "trace" | "defer"
  >,
  now: Date,
) {
  const { db, config, logger: log } = deps;
  const dayAgo = new Date(now.getTime() - DAY);
  const jobs: [string, () => Promise<unknown>][] = [
    ["purge", () => purgeExpired(db, now)],
    [
      "purge connections",
      async () => {
        // Spent or expired states are kept a day so a late replay can still be explained.
        const [states, abandoned] = await db.batch([
          purgeOAuthStates(db, dayAgo),
          purgeAbandonedConnections(db, dayAgo, now),
        ]);
        // The home learnt of the connection when the connect began (services/connections/
        // authorize.ts): forget it there too, so no id outlives its directory row. Best effort:
        // a home that cannot be reached keeps an empty entry, which nothing shows.
        let homesMissed = 0;
        for (const c of abandoned) {
          try {
            await deps.homes.deleteConnection(c.userId, c.id);
          } catch (err) {
            homesMissed++;
            log.warn("abandoned connection not forgotten by its home", { error: String(err) });
          }
        }
        return {
          oauth_states: states.length,
          abandoned_connections: abandoned.length,
          ...(homesMissed ? { homes_missed: homesMissed } : {}),
        };
      },
    ],
    ["credential health", () => checkCredentialHealth(deps, now)],
    ["institution catalogues", () => refreshStaleCatalogues(deps)],
    ["rewrap", () => rewrapCredentials(db, config.encryption.keyring, log, now)],
    ["reconcile sync", () => reconcileSync(db, config.sync, now)],
    ["finish erasures", () => finishErasures(deps, now)],
    ["purge sealed emails", () => purgeSealedEmails(deps, now)],
    [
      "purge outcome counts",
      async () => ({ rows: (await purgeOutcomes(db, new Date(now.getTime() - 2 * DAY))).meta.changes }),
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
