import type { z } from "zod";
import type { Config } from "../../config";
import { base64url, newId, randomToken, sha256Hex, timingSafeEqual } from "../../crypto/random";
import type { Db } from "../../db/client";
import type { SessionRow } from "../../db/sessions";
import { insertRefreshToken, insertSession } from "../../db/sessions";
import type { UserRow } from "../../db/users";
import type { TokenResponse as TokenResponseSchema } from "../../wire/identity";
import { issueAccessToken } from "../access-tokens";
import type { RequestMeta } from "../context";
import { toPublicUser, withCurrentRole } from "./users";

/** The wire shape of tokens (src/wire/identity.ts). */
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

const enc = new TextEncoder();

/**
 * A refresh token's successor is HMAC(secret, token): every concurrent refresh of the same
 * token inside the grace window computes the same successor, without storing it in plaintext.
 */
export async function successorOf(config: Config, token: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", config.tokens.refreshSecret, enc.encode(`refresh:${token}`));
  return base64url(new Uint8Array(mac));
}

export const sameHash = (a: string, b: string) => timingSafeEqual(enc.encode(a), enc.encode(b));

/** A new session with its first refresh token: the INSERTs (for the caller's batch) and the secret. */
export async function newSession(db: Db, config: Config, meta: RequestMeta, user: UserRow, now: Date) {
  const session: SessionRow = {
    id: newId("ses"),
    userId: user.id,
    createdAt: now,
    lastActiveAt: now,
    expiresAt: new Date(now.getTime() + config.tokens.refreshTtlSeconds * 1000),
    revokedAt: null,
    revokedReason: null,
    tokenVersion: user.tokenVersion,
    ipAddress: meta.ip,
    userAgent: meta.userAgent,
    location: meta.location,
  };
  const refreshToken = randomToken();
  const inserts = [
    insertSession(db, session),
    insertRefreshToken(db, { tokenHash: await sha256Hex(refreshToken), sessionId: session.id, issuedAt: now }),
  ] as const;
  return { session, refreshToken, inserts };
}

export async function tokenResponse(
  config: Config,
  user: UserRow,
  sessionId: string,
  refreshToken: string,
  now: Date,
): Promise<TokenResponse> {
  const access = await issueAccessToken(config, { userId: user.id, sessionId, tokenVersion: user.tokenVersion }, now);
  return {
    access_token: access.token,
    token_type: "Bearer",
    expires_in: access.expiresIn,
    refresh_token: refreshToken,
    session_id: sessionId,
    user: withCurrentRole(config, toPublicUser(user)),
  };
}
