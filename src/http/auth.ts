import type { Context, MiddlewareHandler } from "hono";
import type { Db } from "../db/client";
import { findSessionWithUser, touchSession } from "../db/sessions";
import { findUserById } from "../db/users";
import { fail } from "../errors";
import type { AuthorizeAnswer } from "../gate/gate";
import type { RuleName } from "../gate/rules";
import type { LedgerAnswer, LedgerRead } from "../ledger/reads";
import { type AccessClaims, AccessTokenError, verifyAccessToken } from "../services/access-tokens";
import { isAdmin } from "../services/identity/users";
import { refuseIfLimited } from "../services/limits";
import type { AppEnv } from "./app-env";
import { depsOf } from "./deps";
import { applyRateLimitHeaders } from "./rate-limit";
import { metaOf } from "./request";

const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)$/i; // RFC 6750 §2.1 b64token
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

const sessionRevoked = () => fail("session_revoked", "This session has ended; log in again.");
const tokenRevoked = () => fail("token_revoked", "This token predates a security rotation; refresh or log in again.");

/**
 * Requires a valid access token (RFC 6750), verified locally, then makes exactly one Gate call
 * that answers together: session revoked? token version valid? rate limit passed?
 * Reads count against `user_read`, writes against `user_write`, unless the route names a rule.
 * With `readsOwnData`, that one call is left to the handler, which asks the same questions and
 * reads the user's own data in it (`readOwn`): one hop to the user's home object, no D1.
 */
export function requireAuth(
  options: { rule?: RuleName; webSocket?: boolean; readsOwnData?: boolean } = {},
): MiddlewareHandler<AppEnv> {
  return async function requireAuth(c, next) {
    const token =
      BEARER.exec(c.req.header("Authorization") ?? "")?.[1] ??
      (options.webSocket ? bearerSubprotocol(c.req.header("Sec-WebSocket-Protocol")) : undefined);
    if (!token) throw fail("unauthenticated", "Send a bearer access token.");
    const deps = depsOf(c);
    const { config } = deps;
    let claims: AccessClaims;
    try {
      claims = await verifyAccessToken(config, token, deps.now());
    } catch (err) {
      if (err instanceof AccessTokenError && err.code === "token_expired") {
        throw fail("token_expired", "The access token has expired; refresh it.");
      }
      throw fail("unauthenticated", "The access token is not valid.");
    }
    const rule = options.rule ?? (SAFE.has(c.req.method) ? "user_read" : "user_write");
    const auth = {
      userId: claims.sub,
      sessionId: claims.sid,
      tokenVersion: claims.ver,
      issuedAt: claims.iat,
      expiresAt: claims.exp,
    };
    c.set("userId", claims.sub);
    if (options.readsOwnData) {
      c.set("auth", auth);
      c.set("pendingGate", { claims, rule });
      return next();
    }
    let answer: AuthorizeAnswer;
    const gateStarted = performance.now();
    try {
      answer = await deps.gate.authorize(claims.sub, {
        sessionId: claims.sid,
        tokenVersion: claims.ver,
        issuedAtMs: claims.iat * 1000,
        limit: { name: rule, rule: config.rateLimits[rule] },
      });
    } catch (err) {
      // A Gate failure fails open for rate limits, never for revocation on state-changing calls
      // (docs/design.md "The Gate"). Reads fall back to checking the session in D1.
      deps.logger.error("gate unreachable", { error: String(err), method: c.req.method });
      if (!SAFE.has(c.req.method)) throw fail("unavailable", "Try again shortly.");
      await checkSessionInD1(deps.db, claims, deps.now());
      answer = { revoked: false, versionOk: true, rate: null, touch: false };
    }
    // Server-Timing (W3C) exposes the Gate's share of the request to clients and benchmarks.
    c.header("Server-Timing", `gate;dur=${(performance.now() - gateStarted).toFixed(1)}`, { append: true });
    admit(c, claims, answer);
    c.set("auth", auth);
    await next();
  };
}

/** Acts on the Gate's answer: refuse a revoked session or rotated token, apply the rate limit. */
function admit(c: Context<AppEnv>, claims: AccessClaims, answer: AuthorizeAnswer) {
  const deps = depsOf(c);
  if (answer.revoked) throw sessionRevoked();
  if (!answer.versionOk) throw tokenRevoked();
  if (answer.rate) {
    refuseIfLimited(deps, metaOf(c), [answer.rate], ["user"], claims.sub);
    applyRateLimitHeaders(c, [answer.rate]);
  }
  if (answer.touch) {
    // Last activity is written at most once a minute per session, off the response path.
    deps.defer(
      touchSession(deps.db, claims.sid, { lastActiveAt: deps.now() })
        .then(() => undefined)
        .catch((err) => deps.logger.warn("last-activity write failed", { error: String(err) })),
    );
  }
}

/**
 * Behind `requireAuth({ readsOwnData: true })`: the Gate's questions and the read of the user's
 * own data in one call to their home object. A home that cannot be reached answers 503 (the
 * ledger is there and nowhere else) unless the read names `orElse`, an answer from D1: then the
 * session is checked in D1 instead, as for any read when the Gate is down.
 */
export async function readOwn<K extends LedgerRead["kind"]>(
  c: Context<AppEnv>,
  read: Extract<LedgerRead, { kind: K }>,
  orElse?: () => Extract<LedgerAnswer, { kind: K }>,
): Promise<Extract<LedgerAnswer, { kind: K }>> {
  const pending = c.get("pendingGate");
  if (!pending) throw new Error("readOwn needs requireAuth({ readsOwnData: true })");
  const { claims, rule } = pending;
  const deps = depsOf(c);
  const started = performance.now();
  let result: { answer: AuthorizeAnswer; data: LedgerAnswer | null };
  try {
    result = await deps.gate.home(claims.sub).authorizeAndRead(
      {
        sessionId: claims.sid,
        tokenVersion: claims.ver,
        issuedAtMs: claims.iat * 1000,
        limit: { name: rule, rule: deps.config.rateLimits[rule] },
      },
      read,
    );
  } catch (err) {
    deps.logger.error("home unreachable", { error: String(err), read: read.kind });
    if (!orElse) throw fail("unavailable", "Try again shortly.");
    await checkSessionInD1(deps.db, claims, deps.now());
    return orElse();
  }
  c.header("Server-Timing", `gate;dur=${(performance.now() - started).toFixed(1)}`, { append: true });
  admit(c, claims, result.answer);
  if (!result.data || result.data.kind !== read.kind) throw new Error("the home answered another read");
  return result.data as Extract<LedgerAnswer, { kind: K }>;
}

/** Browsers cannot set headers on a WebSocket, so the token may come as `bearer.<jwt>` subprotocol. */
function bearerSubprotocol(header: string | undefined): string | undefined {
  const offered = (header ?? "").split(",").map((p) => p.trim());
  return offered.find((p) => p.startsWith("bearer.") && p.length > 7)?.slice(7);
}

async function checkSessionInD1(db: Db, claims: AccessClaims, now: Date) {
  const row = await findSessionWithUser(db, claims.sid);
  if (!row || row.session.userId !== claims.sub || row.session.revokedAt || row.session.expiresAt <= now) {
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
    const deps = depsOf(c);
    const user = auth ? await findUserById(deps.db, auth.userId) : undefined;
    if (!user || !isAdmin(deps.config, user)) throw fail("forbidden", "Administrators only.");
    await next();
  };
}
