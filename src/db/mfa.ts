import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { mfaBackupCodes, mfaChallenges, users } from "./schema";

export const insertMfaChallenge = (db: Db, row: typeof mfaChallenges.$inferInsert) =>
  db.insert(mfaChallenges).values(row);

/** A live (unused, unexpired) challenge, or undefined. */
export const findLiveMfaChallenge = (db: Db, tokenHash: string, now: Date) =>
  db
    .select()
    .from(mfaChallenges)
    .where(and(eq(mfaChallenges.tokenHash, tokenHash), isNull(mfaChallenges.usedAt), gt(mfaChallenges.expiresAt, now)))
    .get();

/** Spends a live challenge in one statement; of two racing uses only one gets the row. */
export const spendMfaChallenge = (db: Db, tokenHash: string, userId: string, now: Date) =>
  db
    .update(mfaChallenges)
    .set({ usedAt: now })
    .where(
      and(
        eq(mfaChallenges.tokenHash, tokenHash),
        eq(mfaChallenges.userId, userId),
        isNull(mfaChallenges.usedAt),
        gt(mfaChallenges.expiresAt, now),
      ),
    )
    .returning({ tokenHash: mfaChallenges.tokenHash })
    .get();

export const deleteUserMfaChallenges = (db: Db, userId: string) =>
  db.delete(mfaChallenges).where(eq(mfaChallenges.userId, userId));

/** Scheduled purge: challenges past expiry or used. */
export const purgeMfaChallenges = (db: Db, now: Date) =>
  db.delete(mfaChallenges).where(or(lt(mfaChallenges.expiresAt, now), lt(mfaChallenges.usedAt, now)));

/**
 * Records `step` as the last TOTP step used, only if it is newer than the one stored: of two
 * requests with the same code only one gets the row.
 */
export const claimTotpStep = (db: Db, userId: string, step: number) =>
  db
    .update(users)
    .set({ mfaTotpLastStep: step })
    .where(and(eq(users.id, userId), or(isNull(users.mfaTotpLastStep), lt(users.mfaTotpLastStep, step))))
    .returning({ id: users.id })
    .get();

export const insertBackupCodes = (db: Db, userId: string, hashes: string[], now: Date) =>
  db.insert(mfaBackupCodes).values(hashes.map((codeHash) => ({ codeHash, userId, createdAt: now })));

export const deleteBackupCodes = (db: Db, userId: string) =>
  db.delete(mfaBackupCodes).where(eq(mfaBackupCodes.userId, userId));

/**
 * Uses an unused backup code of this user in one statement; returns it once, then never again.
 * `codeHashes` are the forms the code may be stored under (keyed, and the legacy plain hash).
 */
export const consumeBackupCode = (db: Db, userId: string, codeHashes: string[], now: Date) =>
  db
    .update(mfaBackupCodes)
    .set({ usedAt: now })
    .where(
      and(
        inArray(mfaBackupCodes.codeHash, codeHashes),
        eq(mfaBackupCodes.userId, userId),
        isNull(mfaBackupCodes.usedAt),
      ),
    )
    .returning({ codeHash: mfaBackupCodes.codeHash })
    .get();

/** Users whose TOTP secret is not under the active keyring key (re-wrap job), keyset on id. */
export function mfaSecretsUnderOldKeys(db: Db, activeKeyId: string, afterId: string, limit: number) {
  // Stored values read `v1.<keyId>.…`; compared as a prefix (LIKE would treat `_` in ids as a wildcard).
  const prefix = `v1.${activeKeyId}.`;
  return db
    .select({ id: users.id, secretEnc: users.mfaTotpSecretEnc })
    .from(users)
    .where(
      and(
        isNotNull(users.mfaTotpSecretEnc),
        sql`substr(${users.mfaTotpSecretEnc}, 1, ${prefix.length}) <> ${prefix}`,
        gt(users.id, afterId),
      ),
    )
    .orderBy(asc(users.id))
    .limit(limit);
}

/** Compare-and-swap of one user's TOTP secret ciphertext (re-wrap job). */
export const swapMfaSecret = (db: Db, userId: string, before: string, after: string) =>
  db
    .update(users)
    .set({ mfaTotpSecretEnc: after })
    .where(and(eq(users.id, userId), eq(users.mfaTotpSecretEnc, before)))
    .returning({ id: users.id });
