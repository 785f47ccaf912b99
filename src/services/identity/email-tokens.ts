import { randomToken, sha256Hex } from "../../crypto/random";
import { insertAudit } from "../../db/audit";
import { consumeEmailToken, type EmailTokenPurpose, expireUserTokens, insertEmailToken } from "../../db/email-tokens";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { invalidToken } from "./errors";

/** Creates a single-use emailed token; returns the secret and the INSERT for the caller's batch. */
export async function newEmailToken(
  deps: ServiceDeps,
  userId: string,
  purpose: EmailTokenPurpose,
  ttlSeconds: number,
  newEmail?: string,
) {
  const token = randomToken();
  const now = deps.now();
  const insert = insertEmailToken(deps.db, {
    tokenHash: await sha256Hex(token),
    userId,
    purpose,
    newEmail: newEmail ?? null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
  });
  return { token, insert };
}

/**
 * Spends a presented token, found by its SHA-256 (indexed). Unknown, used, expired or
 * wrong-purpose tokens all answer the same `invalid_token`.
 */
export async function spendEmailToken(deps: ServiceDeps, token: string, purposes: EmailTokenPurpose[]) {
  const row = await consumeEmailToken(deps.db, await sha256Hex(token), purposes, deps.now());
  if (!row) throw invalidToken();
  return row;
}

/** The link put in an email: `<APP_BASE_URL>/<page>?token=<value>` (docs/contract.md "System": dev outbox). */
export const emailLink = (deps: ServiceDeps, page: string, token: string) =>
  `${deps.config.appLinkBaseUrl}/${page}?token=${encodeURIComponent(token)}`;

/**
 * Issues a fresh emailed token that supersedes the user's older ones of that purpose, audited
 * in the same batch; returns the secret for the caller's email.
 */
export async function replaceEmailToken(
  deps: ServiceDeps,
  meta: RequestMeta,
  userId: string,
  purpose: EmailTokenPurpose,
  ttlSeconds: number,
  action: string,
): Promise<string> {
  const now = deps.now();
  const { token, insert } = await newEmailToken(deps, userId, purpose, ttlSeconds);
  await deps.db.batch([
    expireUserTokens(deps.db, userId, purpose, now),
    insert,
    insertAudit(deps.db, { ...auditContext(meta), occurredAt: now, action, outcome: "success", userId }),
  ]);
  return token;
}
