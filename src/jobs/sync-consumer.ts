/**
 * The sync queue's consumer: one connection per message (or one slice of the scheduler's sweep).
 * A batch's messages are worked concurrently and settled one by one (ack, delayed retry, or
 * forward to the dead-letter queue), so one connection's trouble never redelivers another's.
 */

import { withTrace } from "../deps";
import {
  type HomeReportMessage,
  HomeReportMessageSchema,
  type SweepMessage,
  SweepMessageSchema,
  SyncMessageSchema,
} from "../home/messages";
import { isQueueProbe } from "../queue-probe";
import type { SyncDeps } from "../services/sync/deps";
import { runSyncAttempt } from "../services/sync/execute";
import { recordHomeReport } from "../services/sync/home-report";
import { sweepSlice } from "../services/sync/schedule";
import { backoffSeconds } from "../services/sync/timing";

export async function consumeSync(batchDeps: SyncDeps, batch: MessageBatch<unknown>) {
  await Promise.all(
    batch.messages.map(async (message) => {
      // Readiness proved the queue takes messages: nothing to do.
      if (isQueueProbe(message.body)) return message.ack();
      const sweep = SweepMessageSchema.safeParse(message.body);
      if (sweep.success) return consumeSweep(withTrace(batchDeps, sweep.data.trace_id), message, sweep.data);
      const report = HomeReportMessageSchema.safeParse(message.body);
      if (report.success) return consumeReport(batchDeps, message, report.data);
      const parsed = SyncMessageSchema.safeParse(message.body);
      if (!parsed.success) {
        // Retrying cannot fix a body we do not understand; say so and drop it.
        batchDeps.logger.error("malformed sync message dropped", { message_id: message.id });
        message.ack();
        return;
      }
      const body = parsed.data;
      // The run's own trace (the cron tick's, or the request's that asked for it).
      const traced = withTrace(batchDeps, body.trace_id);
      try {
        const result = await runSyncAttempt(traced, body, message.attempts);
        if (result.action === "ack") message.ack();
        // Queues' delayed retry; `attempts` counts up on the redelivery.
        else if (result.action === "retry") message.retry({ delaySeconds: result.delaySeconds });
        else {
          await batchDeps.deadLetters.send(
            { ...body, error: result.error, attempts: message.attempts },
            { contentType: "json" },
          );
          message.ack();
        }
      } catch (err) {
        // Provider failures were handled above; this is D1 or a bug. Back off and let Queues'
        // max_retries carry a message that keeps crashing to the dead-letter queue.
        traced.logger.error("sync message crashed", {
          run_id: body.run_id,
          attempt: message.attempts,
          error: err instanceof Error ? err.message : String(err),
        });
        message.retry({
          delaySeconds: backoffSeconds(message.attempts, batchDeps.config.sync.retry, batchDeps.random),
        });
      }
    }),
  );
}

/** A home's report: its audit rows, retried with backoff if D1 fails. */
async function consumeReport(deps: SyncDeps, message: Message<unknown>, report: HomeReportMessage) {
  try {
    deps.logger.info("home report", await recordHomeReport(deps, report));
    message.ack();
  } catch (err) {
    deps.logger.error("home report not recorded", { error: err instanceof Error ? err.message : String(err) });
    message.retry({ delaySeconds: backoffSeconds(message.attempts, deps.config.sync.retry, deps.random) });
  }
}

/** A sweep is idempotent (run keys), so a failed one is simply retried with backoff. */
async function consumeSweep(deps: SyncDeps, message: Message<unknown>, sweep: SweepMessage) {
  try {
    deps.logger.info("sync sweep", { after: sweep.after, to: sweep.to, ...(await sweepSlice(deps, sweep)) });
    message.ack();
  } catch (err) {
    deps.logger.error("sync sweep failed", {
      after: sweep.after,
      error: err instanceof Error ? err.message : String(err),
    });
    message.retry({ delaySeconds: backoffSeconds(message.attempts, deps.config.sync.retry, deps.random) });
  }
}
