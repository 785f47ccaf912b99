/** Provider app tokens (one row per provider slug), renewed under a lease by one caller at a time. */
import { and, eq, isNull, lt, or } from "drizzle-orm";
import type { Db } from "./client";
import { providerAppTokens } from "./schema";

export type AppTokenRow = typeof providerAppTokens.$inferSelect;

export const findAppToken = (db: Db, provider: string) =>
  db.select().from(providerAppTokens).where(eq(providerAppTokens.provider, provider)).get();

/** Takes the renewal lease (creating the row on first use); the row when won, else undefined. */
export async function leaseAppToken(db: Db, provider: string, owner: string, now: Date, until: Date) {
  const [, leased] = await db.batch([
    db.insert(providerAppTokens).values({ provider, updatedAt: now }).onConflictDoNothing(),
    db
      .update(providerAppTokens)
      .set({ leaseOwner: owner, leaseUntil: until })
      .where(
        and(
          eq(providerAppTokens.provider, provider),
          or(isNull(providerAppTokens.leaseUntil), lt(providerAppTokens.leaseUntil, now)),
        ),
      )
      .returning(),
  ]);
  return leased[0];
}

/** Writes a renewed pair and releases the lease, if still held by `owner`. */
export const storeAppToken = (
  db: Db,
  provider: string,
  owner: string,
  values: Pick<
    AppTokenRow,
    "accessEnc" | "accessExpiresAt" | "refreshEnc" | "refreshExpiresAt" | "keyId" | "updatedAt"
  >,
) =>
  db
    .update(providerAppTokens)
    .set({ ...values, leaseOwner: null, leaseUntil: null })
    .where(and(eq(providerAppTokens.provider, provider), eq(providerAppTokens.leaseOwner, owner)));

/** Releases the lease without writing (the renewal failed). */
export const releaseAppToken = (db: Db, provider: string, owner: string) =>
  db
    .update(providerAppTokens)
    .set({ leaseOwner: null, leaseUntil: null })
    .where(and(eq(providerAppTokens.provider, provider), eq(providerAppTokens.leaseOwner, owner)));

/** The provider refused this access token: expire it, unless another caller already replaced it. */
export const expireAppToken = (db: Db, provider: string, accessEnc: string, now: Date) =>
  db
    .update(providerAppTokens)
    .set({ accessExpiresAt: new Date(0), updatedAt: now })
    .where(and(eq(providerAppTokens.provider, provider), eq(providerAppTokens.accessEnc, accessEnc)));
