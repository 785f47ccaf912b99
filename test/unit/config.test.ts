import { describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM helper without type declarations.
import { generateSecrets, newSigningJwk } from "../../scripts/lib/secrets.mjs";
import { ConfigError, parseConfig } from "../../src/config";

const base = () => ({ ENVIRONMENT: "test", CORS_ALLOWED_ORIGINS: "http://localhost:3000", ...generateSecrets() });

async function issuesOf(env: Record<string, unknown>) {
  try {
    await parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  it("builds a typed config with defaults", async () => {
    const config = await parseConfig(base());
    expect(config.environment).toBe("test");
    expect(config.logLevel).toBe("info");
    expect(config.corsAllowedOrigins).toEqual(["http://localhost:3000"]);
    expect(config.jwt.issuer).toBe("ledgerlink");
    expect(config.jwt.signingKeys).toHaveLength(1);
    expect(config.jwt.signingKeys[0]?.publicJwk).not.toHaveProperty("d");
  });

  it("names every wrong key and never echoes a value", async () => {
    const secret = '[{"kty":"EC","crv":"P-256","kid":"short","d":"TOPSECRETVALUE","x":"a","y":"b"}]';
    const issues = await issuesOf({
      ENVIRONMENT: "staging",
      CORS_ALLOWED_ORIGINS: "ftp://x/y",
      JWT_SIGNING_KEYS: secret,
    });
    expect(issues.map((i) => i.key).sort()).toEqual([
      "CORS_ALLOWED_ORIGINS",
      "ENVIRONMENT",
      "JWT_SIGNING_KEYS",
      "JWT_SIGNING_KEYS",
    ]);
    expect(JSON.stringify(issues)).not.toContain("TOPSECRETVALUE");
    expect(JSON.stringify(issues)).not.toContain("staging");
  });

  it("refuses a missing signing key instead of falling back to a default", async () => {
    const { JWT_SIGNING_KEYS: _, ...env } = base();
    expect((await issuesOf(env)).map((i) => i.key)).toEqual(["JWT_SIGNING_KEYS"]);
  });

  it("refuses a key that is not a valid P-256 private key", async () => {
    const jwk = { ...newSigningJwk(), d: "A".repeat(43) };
    const issues = await issuesOf({ ...base(), JWT_SIGNING_KEYS: JSON.stringify([jwk]) });
    expect(issues).toEqual([{ key: "JWT_SIGNING_KEYS", message: "a key could not be imported as ES256" }]);
  });

  it("refuses development keys, http base URLs and http origins in production", async () => {
    const issues = await issuesOf({ ...base(), ENVIRONMENT: "production", APP_BASE_URL: "http://api.example.com" });
    expect(issues.map((i) => i.key).sort()).toEqual(["APP_BASE_URL", "CORS_ALLOWED_ORIGINS", "JWT_SIGNING_KEYS"]);
  });

  it("accepts production keys and https everywhere", async () => {
    const config = await parseConfig({
      ENVIRONMENT: "production",
      APP_BASE_URL: "https://api.example.com/",
      CORS_ALLOWED_ORIGINS: "https://app.example.com",
      JWT_SIGNING_KEYS: JSON.stringify([newSigningJwk("prod")]),
    });
    expect(config.appBaseUrl).toBe("https://api.example.com");
  });
});
