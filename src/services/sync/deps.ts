import type { Deps } from "../../deps";
import type { ConnectionDeps } from "../connections/deps";

/** What sync services depend on: the connection slice plus the queues, randomness, the homes and the Limiter. */
export type SyncDeps = ConnectionDeps &
  Pick<Deps, "queue" | "deadLetters" | "random" | "homes" | "limiter" | "trace" | "metrics">;
