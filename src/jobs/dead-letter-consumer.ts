/** The dead-letter queue's consumer: records each dead run once (src/services/sync/dead-letters.ts). */

import { DeadLetterMessageSchema } from "../home/messages";
import { recordDeadLetter } from "../services/sync/dead-letters";
import type { SyncDeps } from "../services/sync/deps";

/** Seconds before a failed recording is tried again (D1 trouble; the message is not lost). */
const RECORD_RETRY_SECONDS = 30;

export async function consumeDeadLetters(deps: SyncDeps, batch: MessageBatch<unknown>) {
  for (const message of batch.messages) {
    const parsed = DeadLetterMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      deps.logger.error("malformed dead letter dropped", { message_id: message.id });
      message.ack();
      continue;
    }
    try {
      const recorded = await recordDeadLetter(deps, parsed.data);
      deps.logger.warn("sync dead-lettered", { run_id: parsed.data.run_id, recorded });
      message.ack();
    } catch (err) {
      deps.logger.error("dead letter not recorded", { run_id: parsed.data.run_id, error: String(err) });
      message.retry({ delaySeconds: RECORD_RETRY_SECONDS });
    }
  }
}
