import type { Config } from "../../config";
import type { Db } from "../../db/client";
import type { Logger } from "../../logger";
import type { ProviderRegistry } from "../../providers/registry";

/** What connection services depend on; built by the HTTP layer or a job (no Hono here). */
export interface ConnectionDeps {
  db: Db;
  config: Config;
  providers: ProviderRegistry;
  logger: Logger;
  now: () => Date;
  /** Waits between looks while another caller holds a connection's refresh lease. */
  sleep: (ms: number) => Promise<void>;
}

/** The real `sleep`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
