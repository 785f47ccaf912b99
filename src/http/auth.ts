import type { Context, MiddlewareHandler } from "hono";
import type { z } from "zod";
import type { Db } from "../db/client";
import { findSessionWithUser, touchSession } from "../db/sessions";
import { findUserById } from "../db/users";
import { fail } from "../errors";
import type { AuthorizeAnswer } from "../home/home";
import type { HomeRead, ReadAnswer, ReadOf } from "../home/ledger/reads";
import { type AccessClaims, AccessTokenError, verifyAccessToken } from "../services/access-tokens";
import { isAdmin } from "../services/identity/users";
import { refuseIfLimited } from "../services/limits";
import type { RuleName } from "../services/rate-rules";
import type { AppEnv } from "./app-env";
import { depsOf } from "./deps";
import { applyRateLimitHeaders } from "./rate-limit";
import { metaOf } from "./request";

const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)$/i; // RFC 6750 §2.1 b64token
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

const sessionRevoked = () => fail("session_revoked", "This session has ended; log in again.");
const tokenRevoked = () => fail("token_revoked", "This token predates a security rotation; refresh or log in again.");

/** The user's own data a route answers, from the raw request (null when its input is not valid). */
export type OwnRead = (c: Context<AppEnv>) => HomeRead | null;

export interface AuthOptions {
  /** The bucket the request counts against; by default `user_read` for safe methods, else `user_write`. */
  rule?: RuleName;
  /** The token may come as a `bearer.<jwt>` WebSocket subprotocol. */
  webSocket?: boolean;
  /**
   * The user's own data this route answers, read in the same call to their home as the
   * authorization (one hop, no D1). Built from the raw request; when its input is not valid the
   * request is still authorized first, then the validator answers 422.
   */
  read?: OwnRead;
  /** When the home cannot be reached, check the session in D1 and go on without data (`GET /auth/me`). */
  orD1?: boolean;
}

/**
 * Requires a valid access token (RFC 6750), verified locally, then settles everything before the
 * route's validators and handler run, in exactly one call to the user's home: is the session
 * revoked, is the token version valid, does the rate limit pass, and (with `read`) the user's
 * own data. A handler cannot forget any of it: it only ever runs after this, and reads its data
 * from what this call answered (`ownData`).
 */
export function requireAuth(options: AuthOptions = {}): MiddlewareHandler<AppEnv> {
  return async function requireAuth(c, next) {
    const token =
      BEARER.exec(c.req.header("Authorization") ?? "")?.[1] ??
      (options.webSocket ? bearerSubprotocol(c.req.header("Sec-WebSocket-Protocol")) : undefined);
    if (!token) throw fail("unauthenticated", "Send a bearer access token.");
    const deps = depsOf(c);
    let claims: AccessClaims;
    try {
      claims = await verifyAccessToken(deps.config, token, deps.now());
    } catch (err) {
      if (err instanceof AccessTokenError && err.code === "token_expired") {
        throw fail("token_expired", "The access token has expired; refresh it.");
      }
      throw fail("unauthenticated", "The access token is not valid.");
    }
    c.set("userId", claims.sub);
    const { read, refusal } = readOf(c, options.read);
    const auth = {
      sessionId: claims.sid,
      tokenVersion: claims.ver,
      issuedAtMs: claims.iat * 1000,
      rule: options.rule ?? (SAFE.has(c.req.method) ? "user_read" : "user_write"),
    };
    let result: { answer: AuthorizeAnswer; data: ReadAnswer | null };
    const started = performance.now();
    try {
      result = await deps.homes.authorize(claims.sub, auth, read ?? undefined);
    } catch (err) {
      // A home failure never fails open for revocation on a state-changing call, nor for a read
      // of the ledger, which lives nowhere else (docs/design.md "The user's home"). Other reads
      // fall back to checking the session in D1.
      deps.logger.error("home unreachable", { error: String(err), method: c.req.method });
      if (!SAFE.has(c.req.method) || (options.read && !options.orD1)) throw fail("unavailable", "Try again shortly.");
      await checkSessionInD1(deps.db, claims, deps.now());
      result = { answer: { revoked: false, versionOk: true, rate: null, touch: false }, data: null };
    }
    // Server-Timing (W3C) exposes the home's share of the request to clients and benchmarks.
    c.header("Server-Timing", `home;dur=${(performance.now() - started).toFixed(1)}`, { append: true });
    admit(c, claims, result.answer);
    c.set("auth", {
      userId: claims.sub,
      sessionId: claims.sid,
      tokenVersion: claims.ver,
      issuedAt: claims.iat,
      expiresAt: claims.exp,
    });
    c.set("own", result.data);
    // Input the route's own rules refuse (a cursor it never issued, `from` after `to`): 422,
    // answered only now that the request was authorized and counted.
    if (refusal) throw refusal;
    await next();
  };
}

/**
 * The route's read from the raw request: null when its schemas refuse the input (the validator
 * answers that), or the refusal a builder threw for input that passes them (`refusal`).
 */
function readOf(c: Context<AppEnv>, build: OwnRead | undefined): { read: HomeRead | null; refusal: unknown } {
  if (!build) return { read: null, refusal: null };
  try {
    return { read: build(c), refusal: null };
  } catch (err) {
    return { read: null, refusal: err };
  }
}

/** Acts on the home's answer: refuse a revoked session or rotated token, apply the rate limit. */
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
 * What `requireAuth({ read })` read for this request, of the kind the route asked for. Null only
 * behind `orD1` when the home could not be reached.
 */
export function ownData<K extends HomeRead["kind"]>(c: Context<AppEnv>, kind: K): ReadOf<K> {
  const data = c.get("own");
  if (!data || data.kind !== kind) throw new Error(`requireAuth read no ${kind} for this request`);
  return data as ReadOf<K>;
}

/** The same, or null behind `orD1` when the home could not be reached. */
export function ownDataOrNull<K extends HomeRead["kind"]>(c: Context<AppEnv>, kind: K): ReadOf<K> | null {
  const data = c.get("own");
  return data && data.kind === kind ? (data as ReadOf<K>) : null;
}

/** A read built from a part of the request checked by the route's own schema. */
export function readFrom<S extends z.ZodType>(
  part: "param" | "query",
  schema: S,
  build: (input: z.infer<S>) => HomeRead,
): OwnRead {
  return (c) => {
    const parsed = schema.safeParse(part === "param" ? c.req.param() : c.req.query());
    return parsed.success ? build(parsed.data) : null;
  };
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
 * Behind requireAuth: the caller must be an administrator (role `admin`, or a verified address in
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
