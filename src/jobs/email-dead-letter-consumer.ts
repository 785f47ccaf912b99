/** The email dead-letter queue's consumer: records each undelivered email once (src/services/email/dead-letters.ts). */
import { EmailDeadLetterMessageSchema } from "../email/messages";
import { recordEmailDeadLetter } from "../services/email/dead-letters";
import type { EmailDeps } from "../services/email/deps";

/** Seconds before a failed recording is tried again (D1 trouble; the message is not lost). */
const RECORD_RETRY_SECONDS = 30;

export async function consumeEmailDeadLetters(deps: EmailDeps, batch: MessageBatch<unknown>) {
  for (const message of batch.messages) {
    const parsed = EmailDeadLetterMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      deps.logger.error("malformed email dead letter dropped", { message_id: message.id });
      message.ack();
      continue;
    }
    try {
      await recordEmailDeadLetter(deps, parsed.data);
      message.ack();
    } catch (err) {
      deps.logger.error("email dead letter not recorded", { email_id: parsed.data.id, error: String(err) });
      message.retry({ delaySeconds: RECORD_RETRY_SECONDS });
    }
  }
}
