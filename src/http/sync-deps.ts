import type { Context } from "hono";
import { createGateClient } from "../gate/client";
import type { SyncDeps } from "../services/sync/deps";
import type { AppEnv } from "./app-env";
import { connectionDepsOf } from "./connection-deps";

/** The sync services' dependencies, built from the request's bindings and config. */
export function syncDepsOf(c: Context<AppEnv>): SyncDeps {
  return {
    ...connectionDepsOf(c),
    queue: c.env.SYNC_QUEUE,
    deadLetters: c.env.SYNC_DLQ,
    random: Math.random,
    publish: createGateClient(c.env.GATE, c.get("config")).publish,
  };
}
