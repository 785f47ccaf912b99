import type { MiddlewareHandler } from "hono";
import { createDb } from "../db/client";
import { findSessionWithUser, touchSession } from "../db/sessions";
import { findUserById } from "../db/users";
import { fail } from "../errors";
import { type AuthorizeAnswer, gateFor } from "../gate/gate";
import { rateLimited } from "../gate/refusal";
import type { RuleName } from "../gate/rules";
import { type AccessClaims, AccessTokenError, verifyAccessToken } from "../services/access-tokens";
import { isAdmin } from "../services/admin/users";
import type { AppEnv } from "./app-env";
import { applyRateLimitHeaders, auditRateLimit } from "./rate-limit";

const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)$/i; // RFC 6750 §2.1 b64token
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

const sessionRevoked = () => fail("session_revoked", "This session has ended; log in again.");
const tokenRevoked = () => fail("token_revoked", "This token predates a security rotation; refresh or log in again.");

/**
 * Requires a valid access token (RFC 6750), verified locally, then makes exactly one Gate call
 * that answers together: session revoked? token version valid? rate limit passed?
 * Reads count against `user_read`, writes against `user_write`, unless the route names a rule.
 */
export function requireAuth(options: { rule?: RuleName; webSocket?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async function requireAuth(c, next) {
    const token =
      BEARER.exec(c.req.header("Authorization") ?? "")?.[1] ??
      (options.webSocket ? bearerSubprotocol(c.req.header("Sec-WebSocket-Protocol")) : undefined);
    if (!token) throw fail("unauthenticated", "Send a bearer access token.");
    const config = c.get("config");
    let claims: AccessClaims;
    try {
      claims = await verifyAccessToken(config, token, new Date());
    } catch (err) {
      if (err instanceof AccessTokenError && err.code === "token_expired") {
        throw fail("token_expired", "The access token has expired; refresh it.");
      }
      throw fail("unauthenticated", "The access token is not valid.");
    }
    const rule = options.rule ?? (SAFE.has(c.req.method) ? "user_read" : "user_write");
    let answer: AuthorizeAnswer;
    const gateStarted = performance.now();
    try {
      answer = await gateFor(c.env.GATE, `user:${claims.sub}`).authorize({
        sessionId: claims.sid,
        tokenVersion: claims.ver,
        issuedAtMs: claims.iat * 1000,
        limit: { name: rule, rule: config.rateLimits[rule] },
      });
    } catch (err) {
      // ARCHITECTURE.md §4: a Gate failure fails open for rate limits, never for revocation on
      // state-changing calls. Reads fall back to checking the session in D1.
      c.get("logger").error("gate unreachable", { error: String(err), method: c.req.method });
      if (!SAFE.has(c.req.method)) throw fail("unavailable", "Try again shortly.");
      await checkSessionInD1(c.env.DB, claims);
      answer = { revoked: false, versionOk: true, rate: null, touch: false };
    }
    // Server-Timing (W3C) exposes the Gate's share of the request to clients and benchmarks.
    c.header("Server-Timing", `gate;dur=${(performance.now() - gateStarted).toFixed(1)}`, { append: true });
    if (answer.revoked) throw sessionRevoked();
    if (!answer.versionOk) throw tokenRevoked();
    if (answer.rate && !answer.rate.allowed) {
      auditRateLimit(c, [answer.rate], ["user"], claims.sub);
      throw rateLimited([answer.rate]);
    }
    if (answer.rate) applyRateLimitHeaders(c, [answer.rate]);
    if (answer.touch) {
      // Last activity is written at most once a minute per session, off the response path.
      const db = createDb(c.env.DB);
      c.executionCtx.waitUntil(
        touchSession(db, claims.sid, { lastActiveAt: new Date() })
          .then(() => undefined)
          .catch((err) => c.get("logger").warn("last-activity write failed", { error: String(err) })),
      );
    }
    c.set("auth", {
      userId: claims.sub,
      sessionId: claims.sid,
      tokenVersion: claims.ver,
      issuedAt: claims.iat,
      expiresAt: claims.exp,
    });
    c.set("userId", claims.sub);
    await next();
  };
}

/** Browsers cannot set headers on a WebSocket, so the token may come as `bearer.<jwt>` subprotocol. */
function bearerSubprotocol(header: string | undefined): string | undefined {
  const offered = (header ?? "").split(",").map((p) => p.trim());
  return offered.find((p) => p.startsWith("bearer.") && p.length > 7)?.slice(7);
}

async function checkSessionInD1(d1: D1Database, claims: AccessClaims) {
  const row = await findSessionWithUser(createDb(d1), claims.sid);
  if (!row || row.session.userId !== claims.sub || row.session.revokedAt || row.session.expiresAt <= new Date()) {
    throw sessionRevoked();
  }
  if (claims.ver < row.tokenVersion) throw tokenRevoked();
}

/**
 * Behind requireAuth: the caller must be an administrator (role `admin`, or listed in
 * ADMIN_EMAILS), read from D1 so a demotion takes effect on the next request.
 */
export function requireAdmin(): MiddlewareHandler<AppEnv> {
  return async function requireAdmin(c, next) {
    const auth = c.get("auth");
    const user = auth ? await findUserById(createDb(c.env.DB), auth.userId) : undefined;
    if (!user || !isAdmin(c.get("config"), user)) throw fail("forbidden", "Administrators only.");
    await next();
  };
}
