/**
 * Email dead letters: emails refused for good or out of attempts. The dead-letter consumer records
 * each once; administrators list them and replay one, once, as a new email.
 */
import { newId } from "../../crypto/random";
import { insertAudit } from "../../db/audit";
import {
  type EmailDeadLetterRow,
  findEmailDeadLetter,
  insertEmailDeadLetter,
  listEmailDeadLetters,
  markEmailReplayed,
} from "../../db/email-dead-letters";
import { insertPendingEmail } from "../../db/email-pending";
import type { EmailDeadLetterMessage } from "../../email/messages";
import { reportEmailOutcome } from "../../email/outcome";
import { pendingRowOf, sendPendingEmails } from "../../email/queue";
import { openContent, sealEmail } from "../../email/seal";
import type { EmailMessage } from "../../email/sender";
import { fail, notFound } from "../../errors";
import { auditContext, type RequestMeta } from "../context";
import { decodeCursor, encodeCursor } from "../cursor";
import { EMAIL_FAILURES } from "./deliver";
import type { EmailDeps } from "./deps";

/** How long a dead letter keeps its sealed message (for a replay); the hourly job purges it after. */
export const SEALED_KEPT_MS = 7 * 86_400_000;

/** Deliveries of a message Queues dead-lettered itself: its first plus wrangler.toml's max_retries (10). */
const QUEUES_BACKSTOP_DELIVERIES = 11;

/** The wire shape of an email dead letter (admin API). */
export const emailDeadLetterView = (d: EmailDeadLetterRow) => ({
  id: d.id,
  email_id: d.emailId,
  kind: d.kind,
  recipient_hash: d.recipientHash,
  attempts: d.attempts,
  error: { code: d.errorCode, message: d.errorMessage },
  requested_at: d.requestedAt.toISOString(),
  dead_lettered_at: d.deadLetteredAt.toISOString(),
  replayable: d.sealed !== null && d.replayedAt === null,
  replayed_at: d.replayedAt?.toISOString() ?? null,
  replay_email_id: d.replayEmailId,
  replayed_by: d.replayedBy,
});
export type EmailDeadLetterView = ReturnType<typeof emailDeadLetterView>;

/** Records one dead letter (idempotent per email). Returns false for a duplicate delivery. */
export async function recordEmailDeadLetter(
  deps: Pick<EmailDeps, "db" | "now" | "logger" | "metrics">,
  body: EmailDeadLetterMessage,
): Promise<boolean> {
  const error = body.error ?? {
    code: EMAIL_FAILURES.crashed,
    message: "The email consumer crashed on every delivery; Queues gave up on it.",
  };
  const attempts = body.attempts ?? QUEUES_BACKSTOP_DELIVERIES;
  const [inserted] = await insertEmailDeadLetter(deps.db, {
    id: newId("edl"),
    emailId: body.id,
    kind: body.kind,
    recipientHash: body.recipient_hash,
    attempts,
    errorCode: error.code,
    errorMessage: error.message,
    sealed: body.sealed,
    requestedAt: new Date(body.requested_at),
    deadLetteredAt: deps.now(),
  });
  if (!inserted) return false;
  deps.metrics.deadLetter({ queue: "email", source: body.error ? "consumer" : "queues", errorCode: error.code });
  reportEmailOutcome(deps, {
    email_id: body.id,
    kind: body.kind,
    outcome: "dead_letter",
    attempts,
    code: error.code,
    error: error.message,
  });
  return true;
}

/** Admin listing, newest first. */
export async function emailDeadLetters(
  deps: Pick<EmailDeps, "db">,
  f: { state: "open" | "replayed" | "all"; limit: number; cursor?: string },
) {
  const rows = await listEmailDeadLetters(deps.db, {
    state: f.state,
    limit: f.limit + 1,
    after: decodeCursor(f.cursor),
  });
  const page = rows.slice(0, f.limit);
  const last = page.at(-1);
  return {
    dead_letters: page.map(emailDeadLetterView),
    next_cursor: rows.length > f.limit && last ? encodeCursor(last.deadLetteredAt, last.id) : null,
  };
}

/**
 * Replays a dead letter as a new email (a new id and idempotency key: an administrator asks for
 * another send; the hourly quota does not count it again). The mark, the new email (kept in
 * `email_pending`, the replay's outbox) and the audit row are one batch, which the trigger of
 * migration 0015 aborts if another replay came first; the email is then handed to the queue, or
 * left for the 5-minute cron if the queue is out. Each dead letter replays once.
 */
export async function replayEmailDeadLetter(deps: EmailDeps, meta: RequestMeta, actorId: string, id: string) {
  const letter = await findEmailDeadLetter(deps.db, id);
  if (!letter) throw notFound("dead letter");
  if (letter.replayedAt) throw alreadyReplayed(letter);
  if (!letter.sealed) throw expired();
  const keyring = deps.config.encryption.keyring;
  let content: EmailMessage;
  try {
    content = await openContent(keyring, letter.emailId, letter.sealed);
  } catch {
    throw expired();
  }
  const now = deps.now();
  const message = await sealEmail(keyring, { ...content, kind: letter.kind }, now);
  const row = pendingRowOf(message, now);
  let marked: EmailDeadLetterRow | undefined;
  try {
    [[marked]] = await deps.db.batch([
      markEmailReplayed(deps.db, letter.id, { replayedAt: now, replayEmailId: message.id, replayedBy: actorId }),
      insertPendingEmail(deps.db, row),
      insertAudit(deps.db, {
        ...auditContext(meta),
        occurredAt: now,
        action: "email.replayed",
        outcome: "success",
        userId: null,
        actorId,
        details: {
          dead_letter_id: letter.id,
          email_id: letter.emailId,
          replay_email_id: message.id,
          kind: letter.kind,
        },
      }),
    ]);
  } catch (err) {
    const current = await findEmailDeadLetter(deps.db, id);
    if (current?.replayedAt) throw alreadyReplayed(current);
    throw err;
  }
  let status: "queued" | "pending" = "pending";
  try {
    await sendPendingEmails(deps, [row]);
    status = "queued";
  } catch (err) {
    deps.logger.warn("email queue unavailable: replayed email kept for the cron", {
      email_id: message.id,
      error: err instanceof Error ? err.message : String(err),
    });
  }
  return { email: { id: message.id, status }, dead_letter: emailDeadLetterView(marked ?? letter) };
}

function alreadyReplayed(letter: EmailDeadLetterRow) {
  return fail("already_replayed", "This dead letter was already replayed.", {
    extensions: { replay_email_id: letter.replayEmailId },
  });
}

const expired = () =>
  fail(
    "dead_letter_expired",
    "This dead letter's message is no longer kept (7 days) or no longer opens (its key was retired); it cannot be replayed.",
  );
