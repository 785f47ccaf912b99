import { createLocalJWKSet, errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { Config } from "../config";

/** Claims carried by an access token (RFC 9068 profile, plus `sid` and `ver`). */
export interface AccessClaims {
  sub: string;
  sid: string;
  /** The user's token version when issued; a rotation makes older versions invalid. */
  ver: number;
  iat: number;
  exp: number;
  jti: string;
}

export class AccessTokenError extends Error {
  constructor(readonly code: "unauthenticated" | "token_expired") {
    super(code);
    this.name = "AccessTokenError";
  }
}

/** Signs an ES256 access token with the first configured key. */
export async function issueAccessToken(
  config: Config,
  input: { userId: string; sessionId: string; tokenVersion: number },
  now: Date,
): Promise<{ token: string; expiresIn: number }> {
  const key = config.jwt.signingKeys[0];
  if (!key) throw new Error("no signing key");
  const iat = Math.floor(now.getTime() / 1000);
  const ttl = config.tokens.accessTtlSeconds;
  const token = await new SignJWT({ sid: input.sessionId, ver: input.tokenVersion })
    .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "at+jwt" })
    .setIssuer(config.jwt.issuer)
    .setAudience(config.jwt.audience)
    .setSubject(input.userId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
  return { token, expiresIn: ttl };
}

const jwksCache = new WeakMap<Config, ReturnType<typeof createLocalJWKSet>>();

/**
 * Tokens this isolate has verified, to their claims: a client sends the same access token on
 * every request until it expires, and the ES256 check was ~10 % of an authenticated read's CPU.
 * Keyed by the whole token (signature included), per config (a changed key set is a new
 * config); `exp` is still checked on every use. Bounded: the oldest entries go first.
 */
const verified = new WeakMap<Config, Map<string, AccessClaims>>();
const VERIFIED_MAX = 4096;

function verifiedFor(config: Config) {
  let cache = verified.get(config);
  if (!cache) {
    cache = new Map();
    verified.set(config, cache);
  }
  return cache;
}

/** The public keys that verify access tokens (what /.well-known/jwks.json publishes). */
export function publicJwks(config: Config) {
  return { keys: config.jwt.signingKeys.map((k) => k.publicJwk) };
}

/**
 * Verifies signature, `alg` (ES256 only: `none` and HMAC are refused), `kid`, `iss`, `aud`,
 * `exp` and the presence of our claims.
 */
export async function verifyAccessToken(config: Config, token: string, now: Date): Promise<AccessClaims> {
  const cache = verifiedFor(config);
  const known = cache.get(token);
  if (known) {
    if (known.exp * 1000 > now.getTime()) return known;
    cache.delete(token);
    throw new AccessTokenError("token_expired");
  }
  const claims = await verifySigned(config, token, now);
  if (cache.size >= VERIFIED_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(token, claims);
  return claims;
}

async function verifySigned(config: Config, token: string, now: Date): Promise<AccessClaims> {
  let jwks = jwksCache.get(config);
  if (!jwks) {
    jwks = createLocalJWKSet(publicJwks(config));
    jwksCache.set(config, jwks);
  }
  try {
    const { payload } = await jwtVerify(token, jwks, {
      algorithms: ["ES256"],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      typ: "at+jwt",
      requiredClaims: ["sub", "sid", "ver", "iat", "exp", "jti"],
      currentDate: now,
    });
    if (typeof payload.sid !== "string" || typeof payload.ver !== "number" || !Number.isInteger(payload.ver)) {
      throw new AccessTokenError("unauthenticated");
    }
    return payload as unknown as AccessClaims;
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new AccessTokenError("token_expired");
    throw new AccessTokenError("unauthenticated");
  }
}
