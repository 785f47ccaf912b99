/**
 * The cron's half of "a queue outage loses nothing": emails kept in `email_pending` are sent to
 * the queue again every 5 minutes; and the hourly purge of sealed dead-letter messages.
 */
import { purgeSealedDeadLetters } from "../../db/email-dead-letters";
import { listPendingEmails } from "../../db/email-pending";
import { sendPendingEmails } from "../../email/queue";
import { SEALED_KEPT_MS } from "./dead-letters";
import type { EmailDeps } from "./deps";

/** Rows per page, and pages per tick (the rest waits 5 minutes). */
const PAGE = 100;
const PAGES_PER_TICK = 10;

/** Sends kept emails to the queue, oldest first; stops at the first refusal (the queue is still out). */
export async function resendPendingEmails(deps: Pick<EmailDeps, "db" | "emailQueue" | "logger" | "sleep" | "now">) {
  let sent = 0;
  let after: { at: Date; id: string } | undefined;
  for (let page = 0; page < PAGES_PER_TICK; page++) {
    const rows = await listPendingEmails(deps.db, PAGE, after);
    if (rows.length === 0) break;
    try {
      sent += await sendPendingEmails(deps, rows);
    } catch (err) {
      deps.logger.error("email queue still unavailable: pending emails wait for the next tick", {
        error: err instanceof Error ? err.message : String(err),
      });
      return { pending_emails_sent: sent, queue_unavailable: true };
    }
    const last = rows.at(-1);
    if (rows.length < PAGE || !last) break;
    after = { at: last.createdAt, id: last.id };
  }
  return { pending_emails_sent: sent };
}

/** Drops sealed messages of dead letters older than SEALED_KEPT_MS (they can no longer be replayed). */
export async function purgeSealedEmails(deps: Pick<EmailDeps, "db">, now: Date) {
  const purged = await purgeSealedDeadLetters(deps.db, new Date(now.getTime() - SEALED_KEPT_MS));
  return { email_dead_letters_sealed_purged: purged.length };
}
