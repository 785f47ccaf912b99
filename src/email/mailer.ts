import { type EmailSubject, emailSubject, type LimiterClient } from "../limiter/client";
import type { Logger } from "../logger";
import { ATTEMPT_TIMEOUT_MS, type EmailSender, PermanentEmailError } from "./sender";
import type { Email } from "./templates";

/** docs/contract.md "Defaults": at most 5 emails of one kind to one address per hour; beyond, nothing is sent. */
export const EMAILS_PER_KIND_PER_HOUR = 5;

/**
 * Waits before the second and third attempt at a send that failed in passing (a provider's 429 or
 * 5xx, a timeout, a dropped connection). With the sender's 8 s timeout, all three attempts stay
 * inside the 30 s that `waitUntil` allows after the response; a retry that could not finish
 * within EMAIL_SEND_BUDGET_MS of the first attempt is not started.
 */
export const EMAIL_RETRY_WAITS_MS = [1_000, 2_000] as const;
export const EMAIL_SEND_BUDGET_MS = 28_000;

/**
 * How services send email: off the response path and capped per address and kind. A request
 * answers the same whether or not an email goes out, how long the provider takes, or whether it
 * fails (no account enumeration through timing or errors). A send that fails in passing is tried
 * again (EMAIL_RETRY_WAITS_MS); one that still fails, or is refused for good, is logged.
 */
export interface Mailer {
  send(email: Email): void;
}

export interface MailerDeps {
  sender: EmailSender;
  limiter: Pick<LimiterClient<string>, "allowEmail">;
  logger: Logger;
  /** Runs work after the response (the request's `waitUntil`). */
  defer: (work: Promise<unknown>) => void;
  sleep: (ms: number) => Promise<void>;
}

/** A failure for the log: never the recipient, whatever a provider put in its message. */
const describe = (err: unknown, email: Email) =>
  (err instanceof Error ? err.message : String(err)).replaceAll(email.to, "<recipient>");

export function createMailer(deps: MailerDeps): Mailer {
  const deliver = async (email: Email) => {
    const subject: EmailSubject = await emailSubject(email.to);
    if (!(await deps.limiter.allowEmail(subject, email.kind, EMAILS_PER_KIND_PER_HOUR))) {
      deps.logger.warn("email not sent: hourly quota for this address reached", { kind: email.kind });
      return;
    }
    // The quota counted this email once, however many attempts it takes; the key makes the
    // attempts one email at a provider that honours it.
    const delivery = { key: crypto.randomUUID() };
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        await deps.sender.send(email, delivery);
        return;
      } catch (err) {
        const wait = EMAIL_RETRY_WAITS_MS[attempt];
        if (err instanceof PermanentEmailError || wait === undefined) throw err;
        if (Date.now() - started + wait + ATTEMPT_TIMEOUT_MS > EMAIL_SEND_BUDGET_MS) throw err;
        deps.logger.warn("email send failed; trying again", {
          kind: email.kind,
          attempt: attempt + 1,
          error: describe(err, email),
        });
        await deps.sleep(wait);
      }
    }
  };
  return {
    send(email) {
      deps.defer(
        deliver(email).catch((err) =>
          deps.logger.error("email not sent", {
            kind: email.kind,
            error: describe(err, email),
          }),
        ),
      );
    },
  };
}
