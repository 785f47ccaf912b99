import type { Config } from "../config";
import { createDb } from "../db/client";
import { createGateClient } from "../gate/client";
import type { Logger } from "../logger";
import { createProviderRegistry } from "../providers/registry";
import { sleep } from "../services/connections/deps";
import type { SyncDeps } from "../services/sync/deps";

/** The sync services' dependencies outside a request (cron, queue consumers). */
export function syncDepsFor(env: Env, config: Config, logger: Logger): SyncDeps {
  return {
    db: createDb(env.DB),
    config,
    providers: createProviderRegistry(config, { logger }),
    logger,
    now: () => new Date(),
    sleep,
    queue: env.SYNC_QUEUE,
    deadLetters: env.SYNC_DLQ,
    random: Math.random,
    publish: createGateClient(env.GATE, config).publish,
  };
}
