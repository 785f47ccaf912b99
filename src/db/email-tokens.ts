import { and, eq, gt, inArray, isNull, lt, or } from "drizzle-orm";
import type { Db } from "./client";
import { emailTokens } from "./schema";

export type EmailTokenPurpose = (typeof emailTokens.$inferSelect)["purpose"];

export const insertEmailToken = (db: Db, row: typeof emailTokens.$inferInsert) => db.insert(emailTokens).values(row);

/**
 * Consumes a live token in one statement and returns it: unknown, used, expired or
 * wrong-purpose tokens update nothing, and of two racing uses only one gets the row.
 */
export const consumeEmailToken = (db: Db, tokenHash: string, purposes: EmailTokenPurpose[], now: Date) =>
  db
    .update(emailTokens)
    .set({ usedAt: now })
    .where(
      and(
        eq(emailTokens.tokenHash, tokenHash),
        isNull(emailTokens.usedAt),
        gt(emailTokens.expiresAt, now),
        inArray(emailTokens.purpose, purposes),
      ),
    )
    .returning()
    .get();

/** Invalidates a user's outstanding tokens of one purpose (a newer one supersedes them). */
export const expireUserTokens = (db: Db, userId: string, purpose: EmailTokenPurpose, now: Date) =>
  db
    .update(emailTokens)
    .set({ usedAt: now })
    .where(and(eq(emailTokens.userId, userId), eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAt)));

/**
 * Invalidates every outstanding emailed token of a user: a credential change (password reset or
 * change, email change, MFA on/off) ends every link sent before it.
 */
export const expireAllUserTokens = (db: Db, userId: string, now: Date) =>
  db
    .update(emailTokens)
    .set({ usedAt: now })
    .where(and(eq(emailTokens.userId, userId), isNull(emailTokens.usedAt)));

/** Scheduled purge: tokens past expiry or used. */
export const purgeEmailTokens = (db: Db, now: Date) =>
  db.delete(emailTokens).where(or(lt(emailTokens.expiresAt, now), lt(emailTokens.usedAt, now)));
