import type { Context } from "hono";
import { createDb } from "../db/client";
import { createProviderRegistry } from "../providers/registry";
import type { ConnectionDeps } from "../services/connections/deps";
import { sleep } from "../services/connections/deps";
import type { AppEnv } from "./app-env";

/** The dependencies connection services take, built from the request's bindings and config. */
export function connectionDepsOf(c: Context<AppEnv>): ConnectionDeps {
  const config = c.get("config");
  const logger = c.get("logger");
  return {
    db: createDb(c.env.DB),
    config,
    providers: createProviderRegistry(config, { logger }),
    logger,
    now: () => new Date(),
    sleep,
  };
}
