/**
 * The email queue's consumer: one email per message, a batch worked concurrently and settled
 * message by message (ack, delayed retry, or forward to the dead-letter queue with its reason),
 * so one address's trouble never redelivers another's email.
 */
import { withTrace } from "../deps";
import { EmailQueueMessageSchema } from "../email/messages";
import { isQueueProbe } from "../queue-probe";
import { deliverEmail } from "../services/email/deliver";
import type { EmailDeps } from "../services/email/deps";
import { backoffSeconds } from "../services/sync/timing";

export async function consumeEmails(batchDeps: EmailDeps, batch: MessageBatch<unknown>) {
  await Promise.all(
    batch.messages.map(async (message) => {
      // Readiness proved the queue takes messages: nothing to do.
      if (isQueueProbe(message.body)) return message.ack();
      const parsed = EmailQueueMessageSchema.safeParse(message.body);
      const deps = withTrace(batchDeps, parsed.success ? parsed.data.trace_id : undefined);
      if (!parsed.success) {
        // Retrying cannot fix a body we do not understand; say so (never the body) and drop it.
        deps.logger.error("malformed email message dropped", { message_id: message.id });
        message.ack();
        return;
      }
      const body = parsed.data;
      try {
        const result = await deliverEmail(deps, body, message.attempts);
        if (result.action === "ack") message.ack();
        // Queues' delayed retry; `attempts` counts up on the redelivery.
        else if (result.action === "retry") message.retry({ delaySeconds: result.delaySeconds });
        else {
          await deps.emailDeadLetters.send(
            { ...body, error: result.error, attempts: message.attempts },
            { contentType: "json" },
          );
          message.ack();
        }
      } catch (err) {
        // The transport's failures were handled above; this is the dead-letter queue refusing, or
        // a bug. Back off and let Queues' max_retries carry a message that keeps crashing onward.
        deps.logger.error("email message crashed", {
          email_id: body.id,
          kind: body.kind,
          attempt: message.attempts,
          error: err instanceof Error ? err.message : String(err),
        });
        message.retry({ delaySeconds: backoffSeconds(message.attempts, deps.config.email.retry, deps.random) });
      }
    }),
  );
}
