import { env } from "cloudflare:workers";
import { base64url, SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM helper without type declarations.
import { newSigningJwk } from "../../scripts/lib/secrets.mjs";
import { type Config, parseConfig } from "../../src/config";
import { issueAccessToken, publicJwks, verifyAccessToken } from "../../src/services/access-tokens";

const config = await parseConfig(env as unknown as Record<string, unknown>);
const now = new Date("2026-11-21T12:00:00Z");
const claims = { userId: "usr_1", sessionId: "ses_1", tokenVersion: 3 };

async function codeOf(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return (err as { code: string }).code;
  }
  return "accepted";
}

describe("access tokens", () => {
  it("carry kid, iss, aud, sub, sid, ver, iat, exp (15 min) and verify", async () => {
    const { token, expiresIn } = await issueAccessToken(config, claims, now);
    expect(expiresIn).toBe(900);
    const [header] = token.split(".");
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(header as string)))).toMatchObject({
      alg: "ES256",
      kid: config.jwt.signingKeys[0]?.kid,
      typ: "at+jwt",
    });
    const c = await verifyAccessToken(config, token, now);
    expect(c).toMatchObject({ sub: "usr_1", sid: "ses_1", ver: 3, iss: "ledgerlink", aud: "ledgerlink-api" });
    expect(c.exp - c.iat).toBe(900);
  });

  it("rejects expired tokens with token_expired", async () => {
    const { token } = await issueAccessToken(config, claims, now);
    expect(await codeOf(verifyAccessToken(config, token, new Date(now.getTime() + 901_000)))).toBe("token_expired");
  });

  it("rejects alg:none", async () => {
    const token = new UnsecuredJWT({ sid: "ses_1", ver: 3, jti: "x" })
      .setIssuer("ledgerlink")
      .setAudience("ledgerlink-api")
      .setSubject("usr_1")
      .setIssuedAt(Math.floor(now.getTime() / 1000))
      .setExpirationTime("10m")
      .encode();
    expect(await codeOf(verifyAccessToken(config, token, now))).toBe("unauthenticated");
  });

  it("rejects HMAC tokens, even keyed with the public key (alg confusion)", async () => {
    const pub = JSON.stringify(publicJwks(config).keys[0]);
    const token = await new SignJWT({ sid: "ses_1", ver: 3 })
      .setProtectedHeader({ alg: "HS256", kid: config.jwt.signingKeys[0]?.kid, typ: "at+jwt" })
      .setIssuer("ledgerlink")
      .setAudience("ledgerlink-api")
      .setSubject("usr_1")
      .setIssuedAt()
      .setExpirationTime("10m")
      .setJti("j")
      .sign(new TextEncoder().encode(pub));
    expect(await codeOf(verifyAccessToken(config, token, new Date()))).toBe("unauthenticated");
  });

  it("rejects an unknown kid and a foreign key reusing our kid", async () => {
    const foreign = await parseConfig({
      ...(env as unknown as Record<string, unknown>),
      JWT_SIGNING_KEYS: JSON.stringify([newSigningJwk()]),
    });
    const { token } = await issueAccessToken(foreign, claims, now);
    expect(await codeOf(verifyAccessToken(config, token, now))).toBe("unauthenticated");
    const impostorKey = { ...newSigningJwk(), kid: config.jwt.signingKeys[0]?.kid };
    const impostor = await parseConfig({
      ...(env as unknown as Record<string, unknown>),
      JWT_SIGNING_KEYS: JSON.stringify([impostorKey]),
    });
    const forged = await issueAccessToken(impostor, claims, now);
    expect(await codeOf(verifyAccessToken(config, forged.token, now))).toBe("unauthenticated");
  });

  it("rejects a wrong issuer or audience", async () => {
    const otherIss: Config = { ...config, jwt: { ...config.jwt, issuer: "someone-else" } };
    const otherAud: Config = { ...config, jwt: { ...config.jwt, audience: "another-api" } };
    for (const other of [otherIss, otherAud]) {
      const { token } = await issueAccessToken(other, claims, now);
      expect(await codeOf(verifyAccessToken(config, token, now))).toBe("unauthenticated");
    }
  });

  it("keeps verifying tokens of the previous key during rotation; JWKS has no private parts", async () => {
    const oldKey = newSigningJwk("old");
    const newKey = newSigningJwk("new");
    const before = await parseConfig({
      ...(env as unknown as Record<string, unknown>),
      JWT_SIGNING_KEYS: JSON.stringify([oldKey]),
    });
    const during = await parseConfig({
      ...(env as unknown as Record<string, unknown>),
      JWT_SIGNING_KEYS: JSON.stringify([newKey, oldKey]),
    });
    const { token } = await issueAccessToken(before, claims, now);
    expect((await verifyAccessToken(during, token, now)).sub).toBe("usr_1");
    const jwks = publicJwks(during);
    expect(jwks.keys.map((k) => k.kid)).toEqual([newKey.kid, oldKey.kid]);
    for (const k of jwks.keys) expect(k).not.toHaveProperty("d");
  });
});
