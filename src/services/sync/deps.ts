import type { LiveEvent } from "../../gate/events";
import type { ConnectionDeps } from "../connections/deps";
import type { DeadLetterMessage, SyncMessage } from "./messages";

/** What sync services depend on: the connection deps plus the queues and a random source. */
export interface SyncDeps extends ConnectionDeps {
  queue: Pick<Queue<SyncMessage>, "send" | "sendBatch">;
  deadLetters: Pick<Queue<DeadLetterMessage>, "send">;
  /** [0, 1); the backoff's jitter and the schedule's spread. Injected so tests can pin it. */
  random: () => number;
  /** Pushes a live event to the user's open WebSockets; best effort, never throws. */
  publish: (userId: string, event: LiveEvent) => Promise<void>;
}
