import type { Config } from "../config";
import { base64url } from "../crypto/random";
import type { Db } from "../db/client";
import { insertOutbox } from "../db/outbox";

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * A refusal the provider would repeat (a malformed address, a bad key or sender): sending again
 * cannot help, so the email queue's consumer dead-letters it at once. Any other failure may be
 * passing, and is retried.
 */
export class PermanentEmailError extends Error {
  override name = "PermanentEmailError";
}

/**
 * One email's identity across attempts: the same key on every delivery of its queue message (made
 * once, when it was queued), so a provider that knows keys (Resend's `Idempotency-Key`, kept 24 h)
 * and the development outbox send or store it once even if an answer was lost.
 */
export interface Delivery {
  key: string;
}

/** Longest one attempt may take (the Resend request's timeout). */
export const ATTEMPT_TIMEOUT_MS = 8_000;

/** Delivers email. Development and tests store it in the D1 outbox; production really sends. */
export interface EmailSender {
  send(message: EmailMessage, delivery?: Delivery): Promise<void>;
}

/** Time-ordered id, so the outbox lists newest first even within one millisecond. */
const outboxId = (now: Date) =>
  `msg_${now.getTime().toString(36).padStart(9, "0")}${base64url(crypto.getRandomValues(new Uint8Array(8)))}`;

/** The development outbox: idempotent on the delivery's key, as Resend is. */
export function outboxSender(db: Db, now: () => Date = () => new Date()): EmailSender {
  return {
    async send(m, delivery) {
      const at = now();
      await insertOutbox(db, {
        id: outboxId(at),
        to: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        createdAt: at,
        idempotencyKey: delivery?.key ?? null,
      });
    },
  };
}

/**
 * Resend's transactional HTTP API (https://resend.com/docs/api-reference/emails/send-email). 429,
 * 5xx and 409 (the same key still in flight) are passing
 * (https://resend.com/docs/api-reference/errors); other refusals are not.
 */
export function resendSender(apiKey: string, from: string, fetcher: typeof fetch = fetch): EmailSender {
  return {
    async send(m, delivery) {
      const headers: Record<string, string> = { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" };
      if (delivery) headers["Idempotency-Key"] = delivery.key;
      const res = await fetcher("https://api.resend.com/emails", {
        method: "POST",
        headers,
        body: JSON.stringify({ from, to: [m.to], subject: m.subject, text: m.text, html: m.html }),
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      });
      if (res.ok) return;
      const message = `email provider answered ${res.status}`;
      const passing = res.status === 429 || res.status === 409 || res.status >= 500;
      throw passing ? new Error(message) : new PermanentEmailError(message);
    },
  };
}

/** What Cloudflare Email Service's `send_email` binding takes (its structured form). */
export interface SendEmailBinding {
  send(message: { from: string; to: string; subject: string; text: string; html: string }): Promise<unknown>;
}

/**
 * Cloudflare Email Service through the Worker's `send_email` binding (`env.EMAIL.send()`,
 * https://developers.cloudflare.com/email-service/api/send-emails/workers-api/): the same
 * message, text and HTML, from the configured sender. A refusal throws, like Resend's.
 */
export function cloudflareSender(binding: SendEmailBinding, from: string): EmailSender {
  return {
    async send(m) {
      await binding.send({ from, to: m.to, subject: m.subject, text: m.text, html: m.html });
    },
  };
}

/** The sender the configuration asks for (`binding`: the Worker's `EMAIL`, when it has one). */
export function createEmailSender(
  config: Config,
  db: Db,
  now: () => Date = () => new Date(),
  binding?: SendEmailBinding,
): EmailSender {
  if (config.email.transport === "resend" && config.email.resendApiKey) {
    return resendSender(config.email.resendApiKey, config.email.from);
  }
  if (config.email.transport === "cloudflare" && binding) return cloudflareSender(binding, config.email.from);
  return outboxSender(db, now);
}
