import { loadConfig } from "../config";
import { createLogger } from "../logger";
import { QUEUES } from "../services/sync/messages";
import { consumeDeadLetters } from "./dead-letter-consumer";
import { consumeSync } from "./sync-consumer";
import { syncDepsFor } from "./sync-deps";

/** The Worker's `queue()` handler: dispatches a batch by the queue it came from (wrangler.toml). */
export async function runQueue(batch: MessageBatch<unknown>, env: Env) {
  const config = await loadConfig(env);
  const log = createLogger(config.logLevel, { queue: batch.queue });
  const deps = syncDepsFor(env, config, log);
  if (batch.queue === QUEUES.sync) return consumeSync(deps, batch);
  if (batch.queue === QUEUES.deadLetters) return consumeDeadLetters(deps, batch);
  // A binding this code does not know: keep the messages (Queues retries, then dead-letters them).
  log.error("batch from an unknown queue", { messages: batch.messages.length });
  batch.retryAll();
}
