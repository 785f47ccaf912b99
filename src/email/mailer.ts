import { type EmailSubject, emailSubject, type GateClient } from "../gate/client";
import type { Logger } from "../logger";
import type { EmailSender } from "./sender";
import type { Email } from "./templates";

/** docs/contract.md "Defaults": at most 5 emails of one kind to one address per hour; beyond, nothing is sent. */
export const EMAILS_PER_KIND_PER_HOUR = 5;

/**
 * How services send email: off the response path and capped per address and kind. A request
 * answers the same whether or not an email goes out, how long the provider takes, or whether it
 * fails (no account enumeration through timing or errors); a failed send is logged.
 */
export interface Mailer {
  send(email: Email): void;
}

export interface MailerDeps {
  sender: EmailSender;
  gate: Pick<GateClient, "allowEmail">;
  logger: Logger;
  /** Runs work after the response (the request's `waitUntil`). */
  defer: (work: Promise<unknown>) => void;
}

export function createMailer(deps: MailerDeps): Mailer {
  const deliver = async (email: Email) => {
    const subject: EmailSubject = await emailSubject(email.to);
    if (!(await deps.gate.allowEmail(subject, email.kind, EMAILS_PER_KIND_PER_HOUR))) {
      deps.logger.warn("email not sent: hourly quota for this address reached", { kind: email.kind });
      return;
    }
    await deps.sender.send(email);
  };
  return {
    send(email) {
      deps.defer(
        deliver(email).catch((err) =>
          deps.logger.error("email not sent", {
            kind: email.kind,
            error: err instanceof Error ? err.message : String(err),
          }),
        ),
      );
    },
  };
}
