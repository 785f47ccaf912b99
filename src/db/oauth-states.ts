import { and, asc, eq, gt, isNull, lt, ne, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { oauthStates } from "./schema";

export type OAuthStateRow = typeof oauthStates.$inferSelect;

export const insertOAuthState = (db: Db, row: typeof oauthStates.$inferInsert) => db.insert(oauthStates).values(row);

/**
 * Spends a live state in one statement and returns it (RFC 6749 §10.12): unknown, used, expired
 * or (when `userId` is given) another user's states update nothing, and of two racing uses only
 * one gets the row. With `proofHash` (the SHA-256 of the hand-off's code), a bank consent's state
 * is spent only if it matches, so a completion without the proof changes nothing.
 */
export const consumeOAuthState = (db: Db, stateHash: string, now: Date, userId?: string, proofHash?: string) =>
  db
    .update(oauthStates)
    .set({ usedAt: now })
    .where(
      and(
        eq(oauthStates.stateHash, stateHash),
        isNull(oauthStates.usedAt),
        gt(oauthStates.expiresAt, now),
        userId === undefined ? undefined : eq(oauthStates.userId, userId),
        proofHash === undefined
          ? undefined
          : or(isNull(oauthStates.referenceHash), eq(oauthStates.referenceHash, proofHash)),
      ),
    )
    .returning()
    .get();

/**
 * Gives a spent state back (the bank has not answered yet: the person may still finish there),
 * unless a newer flow of its connection began meanwhile: a reauthorization that started while this
 * state was spent could not expire it, and must not see it come back.
 */
export const unspendOAuthState = (db: Db, stateHash: string) =>
  db
    .update(oauthStates)
    .set({ usedAt: null })
    .where(
      and(
        eq(oauthStates.stateHash, stateHash),
        sql`NOT EXISTS (SELECT 1 FROM oauth_states AS newer WHERE newer.connection_id = ${oauthStates.connectionId} AND newer.created_at > ${oauthStates.createdAt})`,
      ),
    );

/** A connection's outstanding (unspent) states: the flows started for it and not finished. */
export const liveConnectionStates = (db: Db, connectionId: string) =>
  db
    .select()
    .from(oauthStates)
    .where(and(eq(oauthStates.connectionId, connectionId), isNull(oauthStates.usedAt)));

/** A state by hash, whatever its condition (to say why a consume failed, for the audit). */
export const findOAuthState = (db: Db, stateHash: string) =>
  db.select().from(oauthStates).where(eq(oauthStates.stateHash, stateHash)).get();

/** Spends a connection's outstanding states (the newest authorization request supersedes them); answers those. */
export const expireConnectionStates = (db: Db, connectionId: string, now: Date) =>
  db
    .update(oauthStates)
    .set({ usedAt: now })
    .where(and(eq(oauthStates.connectionId, connectionId), isNull(oauthStates.usedAt)))
    .returning();

/** Live states whose verifier is under a key other than `activeKeyId`, keyset-paginated. */
export const statesUnderOldKeys = (db: Db, activeKeyId: string, afterHash: string, limit: number) =>
  db
    .select()
    .from(oauthStates)
    .where(and(ne(oauthStates.keyId, activeKeyId), gt(oauthStates.stateHash, afterHash)))
    .orderBy(asc(oauthStates.stateHash))
    .limit(limit);

/** Compare-and-swap of one state's verifier ciphertext (re-wrap job). */
export const swapStateVerifier = (db: Db, stateHash: string, before: string, after: string, keyId: string) =>
  db
    .update(oauthStates)
    .set({ codeVerifierEnc: after, keyId })
    .where(and(eq(oauthStates.stateHash, stateHash), eq(oauthStates.codeVerifierEnc, before)))
    .returning({ stateHash: oauthStates.stateHash });

/** Scheduled purge: states past expiry or spent, kept a day so refusals can still be explained. */
export const purgeOAuthStates = (db: Db, before: Date) =>
  db
    .delete(oauthStates)
    .where(or(lt(oauthStates.expiresAt, before), lt(oauthStates.usedAt, before)))
    .returning({ stateHash: oauthStates.stateHash });
