/**
 * How services send email: counted against the address's hourly quota, sealed and queued, all
 * after the response. A request answers the same whether or not an email goes out, how long that
 * takes, or whether it fails (no account enumeration through timing or errors). Delivery itself,
 * with its retries and dead letters, is the email queue's consumer's (src/jobs/email-consumer.ts).
 */
import type { Keyring } from "../crypto/keyring";
import { type EmailQueueDeps, enqueueEmail } from "./queue";
import type { EmailQuota } from "./quota";
import { redactFailure } from "./redact";
import { sealEmail } from "./seal";
import type { Email } from "./templates";

export { EMAILS_PER_KIND_PER_HOUR } from "./quota";

export interface Mailer {
  send(email: Email): void;
}

export interface MailerDeps extends EmailQueueDeps {
  /** The hourly cap per address and kind: counted here, once per email. */
  quota: EmailQuota;
  keyring: Keyring;
  /** Runs work after the response (the request's `waitUntil`). */
  defer: (work: Promise<unknown>) => void;
  /** The trace that asked for the email (its message carries it to the consumer's logs). */
  traceId?: string;
}

/** Counts, seals and queues one email; resolves to what became of it. */
export async function queueEmail(deps: MailerDeps, email: Email): Promise<"queued" | "pending" | "over_quota"> {
  if (!(await deps.quota.allow(email.to, email.kind))) {
    deps.logger.warn("email not sent: hourly quota for this address reached", { kind: email.kind });
    return "over_quota";
  }
  const message = await sealEmail(deps.keyring, email, deps.now());
  return enqueueEmail(deps, deps.traceId ? { ...message, trace_id: deps.traceId } : message);
}

export function createMailer(deps: MailerDeps): Mailer {
  return {
    send(email) {
      deps.defer(
        queueEmail(deps, email).catch((err) =>
          // The Limiter's quota, the keyring, or both the queue and D1 failed: the email is lost.
          deps.logger.error("email not queued", {
            kind: email.kind,
            error: redactFailure(err, email.to),
          }),
        ),
      );
    },
  };
}
