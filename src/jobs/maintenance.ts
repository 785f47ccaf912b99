import { and, isNotNull, lt, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { purgeEmailTokens } from "../db/email-tokens";
import { purgeMfaChallenges } from "../db/mfa";
import { purgeOutbox } from "../db/outbox";
import { emailTokens, mfaChallenges, outboxMessages, sessions } from "../db/schema";

const DAY = 86_400_000;

/**
 * Hourly clean-up: spent or expired email tokens and MFA challenges, sessions that ended over a week ago (their
 * refresh tokens go with them by foreign-key cascade) and week-old dev outbox messages.
 */
export async function purgeExpired(db: Db, now: Date) {
  const weekAgo = new Date(now.getTime() - 7 * DAY);
  const [tokens, ended, outbox, challenges] = await db.batch([
    purgeEmailTokens(db, now).returning({ id: emailTokens.tokenHash }),
    db
      .delete(sessions)
      .where(or(lt(sessions.expiresAt, weekAgo), and(isNotNull(sessions.revokedAt), lt(sessions.revokedAt, weekAgo))))
      .returning({ id: sessions.id }),
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
