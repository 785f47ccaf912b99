/**
 * What travels on the email queues. Parsed, never trusted: a bad body is logged and dropped. The
 * message itself (address, subject, text, HTML with its single-use link) is only ever sealed.
 */
import { z } from "zod";
import { EMAIL_KINDS } from "./kinds";

/** One email (queue `ledgerlink-email`). */
export const EmailQueueMessageSchema = z.object({
  v: z.literal(1),
  /** The email's id: names it in logs, the pending table and its dead letter; the AAD of `sealed`. */
  id: z.string().min(1).max(100),
  /** Made once when the email is queued and sent on every delivery (Resend's `Idempotency-Key`). */
  idempotency_key: z.string().min(1).max(256),
  kind: z.enum(EMAIL_KINDS),
  /** SHA-256 (hex) of the trimmed, lower-cased address, for the dead letter. */
  recipient_hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** `{to, subject, text, html}` as keyring ciphertext bound to `id` (src/email/seal.ts). */
  sealed: z.string().min(1).max(120_000),
  /** When the email was asked for (epoch ms). */
  requested_at: z.number().int(),
  /** The W3C trace id that asked for it (src/trace.ts); absent when it waited in D1. */
  trace_id: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional(),
});
export type EmailQueueMessage = z.infer<typeof EmailQueueMessageSchema>;

/**
 * An email that will not be delivered (queue `ledgerlink-email-dlq`). `error` is set when the
 * consumer forwarded it (a refusal, or its last attempt); a message Queues moved there itself (a
 * consumer that crashed on every delivery) has none.
 */
export const EmailDeadLetterMessageSchema = EmailQueueMessageSchema.extend({
  error: z.object({ code: z.string().max(100), message: z.string().max(500) }).optional(),
  attempts: z.number().int().min(0).optional(),
});
export type EmailDeadLetterMessage = z.infer<typeof EmailDeadLetterMessageSchema>;

/** Queue names, as in wrangler.toml; `queue()` dispatches on them. */
export const EMAIL_QUEUES = { email: "ledgerlink-email", deadLetters: "ledgerlink-email-dlq" } as const;
