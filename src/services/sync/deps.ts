import type { Deps } from "../../deps";
import type { ConnectionDeps } from "../connections/deps";

/** What sync services depend on: the connection slice plus the queues, randomness and the Gates. */
export type SyncDeps = ConnectionDeps &
  Pick<Deps, "queue" | "deadLetters" | "random" | "homes" | "limiter" | "trace" | "metrics">;
