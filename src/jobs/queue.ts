import { loadConfig } from "../config";
import { createDeps } from "../deps";
import { EMAIL_QUEUES } from "../email/messages";
import { QUEUES } from "../home/messages";
import { createLogger } from "../logger";
import { consumeDeadLetters } from "./dead-letter-consumer";
import { consumeEmails } from "./email-consumer";
import { consumeEmailDeadLetters } from "./email-dead-letter-consumer";
import { consumeSync } from "./sync-consumer";

/** The Worker's `queue()` handler: dispatches a batch by the queue it came from (wrangler.toml). */
export async function runQueue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext) {
  const config = await loadConfig(env);
  const log = createLogger(config.logLevel, { queue: batch.queue });
  const deps = createDeps(env, config, { logger: log, defer: (work) => ctx.waitUntil(work) });
  if (batch.queue === QUEUES.sync) return consumeSync(deps, batch);
  if (batch.queue === QUEUES.deadLetters) return consumeDeadLetters(deps, batch);
  if (batch.queue === EMAIL_QUEUES.email) return consumeEmails(deps, batch);
  if (batch.queue === EMAIL_QUEUES.deadLetters) return consumeEmailDeadLetters(deps, batch);
  // A binding this code does not know: keep the messages (Queues retries, then dead-letters them).
  log.error("batch from an unknown queue", { messages: batch.messages.length });
  batch.retryAll();
}
