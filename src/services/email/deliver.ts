/**
 * One delivery of one queued email: open it, hand it to the transport under its idempotency key,
 * and say what the consumer should do with the message. A passing failure (the provider's 429 or
 * 5xx, a timeout, a dropped connection) is retried with full-jitter backoff until
 * EMAIL_MAX_ATTEMPTS; a refusal the provider would repeat goes to the dead-letter queue at once.
 */

import { countOutcome } from "../../db/outcomes";
import type { EmailQueueMessage } from "../../email/messages";
import { reportEmailOutcome } from "../../email/outcome";
import { redactFailure } from "../../email/redact";
import { openContent } from "../../email/seal";
import { type EmailMessage, PermanentEmailError } from "../../email/sender";
import { backoffSeconds } from "../sync/timing";
import type { EmailDeps } from "./deps";

/** Why an email was dead-lettered (the dead letter's `error.code`). */
export const EMAIL_FAILURES = {
  /** The provider refused it for good (another 4xx, `PermanentEmailError`). */
  refused: "email_refused",
  /** Every attempt failed in passing. */
  exhausted: "email_attempts_exhausted",
  /** The sealed message would not open (its key left the keyring, or it was tampered with). */
  unreadable: "email_unreadable",
  /** Queues moved it there itself: the consumer crashed on every delivery. */
  crashed: "email_crashed",
  /** A failure in passing, to be retried (readiness counts it; never a dead letter's code). */
  transient: "email_transient",
} as const;

export type DeliveryResult =
  | { action: "ack" }
  | { action: "retry"; delaySeconds: number }
  | { action: "dead_letter"; error: { code: string; message: string } };

/** Delivers `message` once (its `attempt`-th delivery, 1-based). */
export async function deliverEmail(
  deps: Pick<EmailDeps, "config" | "emailSender" | "logger" | "random" | "metrics" | "db" | "now">,
  message: EmailQueueMessage,
  attempt: number,
): Promise<DeliveryResult> {
  const result = await deliverOnce(deps, message, attempt);
  // What readiness reports of the transport: the outcome of each send it tried.
  const error =
    result.action === "ack" ? null : result.action === "retry" ? EMAIL_FAILURES.transient : result.error.code;
  if (error !== EMAIL_FAILURES.unreadable) {
    await countOutcome(deps.db, "email", deps.now(), error).catch((err) =>
      deps.logger.warn("email outcome not counted", { error: String(err) }),
    );
  }
  return result;
}

async function deliverOnce(
  deps: Pick<EmailDeps, "config" | "emailSender" | "logger" | "random" | "metrics">,
  message: EmailQueueMessage,
  attempt: number,
): Promise<DeliveryResult> {
  let content: EmailMessage;
  try {
    content = await openContent(deps.config.encryption.keyring, message.id, message.sealed);
  } catch (err) {
    return {
      action: "dead_letter",
      error: {
        code: EMAIL_FAILURES.unreadable,
        message: `The sealed message does not open (${redactFailure(err, null)}).`,
      },
    };
  }
  try {
    await deps.emailSender.send(content, { key: message.idempotency_key });
    reportEmailOutcome(deps, { email_id: message.id, kind: message.kind, outcome: "sent", attempts: attempt });
    return { action: "ack" };
  } catch (err) {
    const said = redactFailure(err, content.to);
    if (err instanceof PermanentEmailError) {
      return { action: "dead_letter", error: { code: EMAIL_FAILURES.refused, message: said } };
    }
    const retry = deps.config.email.retry;
    if (attempt >= retry.maxAttempts) {
      return { action: "dead_letter", error: { code: EMAIL_FAILURES.exhausted, message: said } };
    }
    const delaySeconds = backoffSeconds(attempt, retry, deps.random);
    reportEmailOutcome(deps, {
      email_id: message.id,
      kind: message.kind,
      outcome: "retry",
      attempts: attempt,
      error: said,
      delay_seconds: delaySeconds,
    });
    return { action: "retry", delaySeconds };
  }
}
