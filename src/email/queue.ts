/**
 * Handing emails to the email queue without losing one: a send that fails is tried again briefly,
 * then the email is kept, sealed, in D1 (`email_pending`) for the 5-minute cron to send again.
 * A message sent twice (an answer lost, the cron racing a late success) is still one email: both
 * carry the same idempotency key.
 */
import type { Db } from "../db/client";
import { deletePendingEmails, insertPendingEmail, type PendingEmailRow } from "../db/email-pending";
import type { Logger } from "../logger";
import type { EmailQueueMessage } from "./messages";

/** Waits before the second and third try at `EMAIL_QUEUE.send`; then the email is kept in D1. */
export const QUEUE_SEND_WAITS_MS = [200, 1_000] as const;

/** Queues' sendBatch limits: 100 messages and 256 KB a call; kept under both with room to spare. */
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 200_000;

export interface EmailQueueDeps {
  db: Db;
  emailQueue: Pick<Queue<EmailQueueMessage>, "send" | "sendBatch">;
  logger: Logger;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
}

export const pendingRowOf = (m: EmailQueueMessage, now: Date): PendingEmailRow => ({
  id: m.id,
  idempotencyKey: m.idempotency_key,
  kind: m.kind,
  recipientHash: m.recipient_hash,
  sealed: m.sealed,
  requestedAt: new Date(m.requested_at),
  createdAt: now,
});

export const messageOf = (row: PendingEmailRow): EmailQueueMessage => ({
  v: 1,
  id: row.id,
  idempotency_key: row.idempotencyKey,
  kind: row.kind,
  recipient_hash: row.recipientHash,
  sealed: row.sealed,
  requested_at: row.requestedAt.getTime(),
});

/**
 * Queues one email: `queued` once the queue took it, `pending` when it is kept in D1 for the cron.
 * Throws only if D1 refuses too (then the caller logs it: the one way an email is lost).
 */
export async function enqueueEmail(deps: EmailQueueDeps, message: EmailQueueMessage): Promise<"queued" | "pending"> {
  for (let attempt = 0; ; attempt++) {
    try {
      await deps.emailQueue.send(message, { contentType: "json" });
      return "queued";
    } catch (err) {
      const wait = QUEUE_SEND_WAITS_MS[attempt];
      if (wait === undefined) {
        await insertPendingEmail(deps.db, pendingRowOf(message, deps.now()));
        deps.logger.warn("email queue unavailable: email kept for the cron", {
          email_id: message.id,
          kind: message.kind,
          error: err instanceof Error ? err.message : String(err),
        });
        return "pending";
      }
      await deps.sleep(wait);
    }
  }
}

/** Splits kept emails into sendBatch calls Queues accepts. */
function chunks(rows: PendingEmailRow[]): PendingEmailRow[][] {
  const out: PendingEmailRow[][] = [];
  let current: PendingEmailRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = row.sealed.length + 400;
    if (current.length && (current.length === BATCH_MESSAGES || bytes + size > BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += size;
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * Sends kept emails to the queue and forgets those it took. Stops at the first refusal (the
 * queue is still out; the rest waits for the next tick). Returns how many were sent.
 */
export async function sendPendingEmails(deps: EmailQueueDeps, rows: PendingEmailRow[]): Promise<number> {
  let sent = 0;
  for (const chunk of chunks(rows)) {
    await deps.emailQueue.sendBatch(chunk.map((row) => ({ body: messageOf(row), contentType: "json" as const })));
    // The queue has them: a failure to forget them only sends them again (same keys, one email).
    await deletePendingEmails(
      deps.db,
      chunk.map((row) => row.id),
    );
    sent += chunk.length;
  }
  return sent;
}
