import type { MiddlewareHandler } from "hono";
import { createDb } from "../db/client";
import { findSessionWithUser } from "../db/sessions";
import { AccessTokenError, verifyAccessToken } from "../services/access-tokens";
import type { AppEnv } from "./app-env";
import { ApiError } from "./errors";

const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)$/i; // RFC 6750 §2.1 b64token

/**
 * Requires a valid access token (RFC 6750), then checks its session and token version in D1
 * so that logout and rotations take effect on the very next request.
 */
export function requireAuth(): MiddlewareHandler<AppEnv> {
  return async function requireAuth(c, next) {
    const match = BEARER.exec(c.req.header("Authorization") ?? "");
    if (!match?.[1]) throw new ApiError(401, "unauthenticated", "Send a bearer access token.");
    const config = c.get("config");
    let claims: Awaited<ReturnType<typeof verifyAccessToken>>;
    try {
      claims = await verifyAccessToken(config, match[1], new Date());
    } catch (err) {
      if (err instanceof AccessTokenError && err.code === "token_expired") {
        throw new ApiError(401, "token_expired", "The access token has expired; refresh it.");
      }
      throw new ApiError(401, "unauthenticated", "The access token is not valid.");
    }
    const row = await findSessionWithUser(createDb(c.env.DB), claims.sid);
    if (!row || row.session.userId !== claims.sub || row.session.revokedAt || row.session.expiresAt <= new Date()) {
      throw new ApiError(401, "session_revoked", "This session has ended; log in again.");
    }
    if (claims.ver < row.tokenVersion) {
      throw new ApiError(401, "token_revoked", "This token predates a security rotation; refresh or log in again.");
    }
    c.set("auth", { userId: claims.sub, sessionId: claims.sid, role: row.role, tokenVersion: claims.ver });
    c.set("userId", claims.sub);
    await next();
  };
}
