import type { Db } from "../db/client";
import { purgeEmailTokens } from "../db/email-tokens";
import { purgeMfaChallenges } from "../db/mfa";
import { purgeOutbox } from "../db/outbox";
import { emailTokens, mfaChallenges, outboxMessages } from "../db/schema";
import { purgeEndedSessions } from "../db/sessions";

const DAY = 86_400_000;

/**
 * Hourly clean-up: spent or expired email tokens and MFA challenges, sessions that ended over a
 * week ago (their refresh tokens go with them by foreign-key cascade) and week-old dev outbox
 * messages.
 */
export async function purgeExpired(db: Db, now: Date) {
  const weekAgo = new Date(now.getTime() - 7 * DAY);
  const [tokens, ended, outbox, challenges] = await db.batch([
    purgeEmailTokens(db, now).returning({ id: emailTokens.tokenHash }),
    purgeEndedSessions(db, weekAgo),
    purgeOutbox(db, weekAgo).returning({ id: outboxMessages.id }),
    purgeMfaChallenges(db, now).returning({ id: mfaChallenges.tokenHash }),
  ]);
  return {
    email_tokens: tokens.length,
    sessions: ended.length,
    outbox: outbox.length,
    mfa_challenges: challenges.length,
  };
}
