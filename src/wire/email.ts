import { z } from "@hono/zod-openapi";
import { EMAIL_KINDS } from "../email/kinds";

const dateTime = () => z.string().openapi({ format: "date-time" });

export const EmailDeadLetter = z
  .object({
    id: z.string(),
    email_id: z.string().openapi({ description: "The undelivered email (as named in the logs)." }),
    kind: z.enum(EMAIL_KINDS),
    recipient_hash: z.string().openapi({
      description:
        "SHA-256 (hex) of the trimmed, lower-cased address. The address, the subject and any link are never shown or stored in the clear.",
    }),
    attempts: z.number().int().openapi({ description: "Deliveries tried." }),
    error: z.object({ code: z.string(), message: z.string() }).openapi({
      description:
        "`email_refused` (the provider refused it for good), `email_attempts_exhausted` (every delivery failed in passing), `email_unreadable` (the sealed message does not open), `email_crashed` (the consumer crashed on every delivery). The message never holds the address or a link.",
    }),
    requested_at: dateTime().openapi({ description: "When the email was asked for." }),
    dead_lettered_at: dateTime(),
    replayable: z.boolean().openapi({
      description: "False once replayed, or once its sealed message is purged (7 days after it was dead-lettered).",
    }),
    replayed_at: dateTime().nullable(),
    replay_email_id: z.string().nullable(),
    replayed_by: z.string().nullable().openapi({ description: "The administrator who replayed it." }),
  })
  .openapi("EmailDeadLetter");

export const EmailQueued = z.object({
  email: z.object({
    id: z.string(),
    status: z.enum(["queued", "pending"]).openapi({
      description:
        "`queued`: the email queue has it. `pending`: the queue is unavailable; it is kept and queued by the 5-minute cron.",
    }),
  }),
});
