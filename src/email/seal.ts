/**
 * Emails at rest (queue messages, the pending table, dead letters) are keyring ciphertext
 * (src/crypto/keyring.ts), never plaintext: they carry single-use links. The additional data
 * binds each to its email id, so a sealed message copied under another id fails to open.
 */
import type { EncryptionContext, Keyring } from "../crypto/keyring";
import { newId, sha256Hex } from "../crypto/random";
import type { EmailQueueMessage } from "./messages";
import type { EmailMessage } from "./sender";
import type { Email } from "./templates";

/** The keyring context of an email: its own id, under a subject no user or connection has. */
const contextOf = (emailId: string): EncryptionContext => ({
  userId: "email",
  connectionId: emailId,
  field: "message",
});

/** SHA-256 (hex) of the trimmed, lower-cased address: what is kept instead of it. */
export const recipientHash = (to: string) => sha256Hex(to.trim().toLowerCase());

/** Seals `content` as the email `id`. */
export const sealContent = (keyring: Keyring, id: string, content: EmailMessage) =>
  keyring.encrypt(
    JSON.stringify({ to: content.to, subject: content.subject, text: content.text, html: content.html }),
    contextOf(id),
  );

/** Opens a sealed email; throws KeyringError when it cannot (a retired key, tampering, another id). */
export async function openContent(keyring: Keyring, id: string, sealed: string): Promise<EmailMessage> {
  const m = JSON.parse(await keyring.decrypt(sealed, contextOf(id))) as EmailMessage;
  return { to: m.to, subject: m.subject, text: m.text, html: m.html };
}

/** A new queue message for `email`: a fresh id and idempotency key, made once, kept by every delivery. */
export async function sealEmail(keyring: Keyring, email: Email, now: Date): Promise<EmailQueueMessage> {
  const id = newId("eml");
  return {
    v: 1,
    id,
    idempotency_key: crypto.randomUUID(),
    kind: email.kind,
    recipient_hash: await recipientHash(email.to),
    sealed: await sealContent(keyring, id, email),
    requested_at: now.getTime(),
  };
}
