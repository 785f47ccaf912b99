import { describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM helper without type declarations.
import { generateSecrets, newEncryptionKey, newSigningJwk } from "../../scripts/lib/secrets.mjs";
import { ConfigError, parseConfig } from "../../src/config";

const base = () => ({
  ENVIRONMENT: "test",
  LEDGERLINK_LOCAL: "1",
  CORS_ALLOWED_ORIGINS: "http://localhost:3000",
  ...generateSecrets(),
});

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
      REFRESH_TOKEN_SECRET: "c2hvcnQ=",
    });
    expect(issues.map((i) => i.key).sort()).toEqual([
      "CORS_ALLOWED_ORIGINS",
      "ENCRYPTION_KEYS",
      "ENVIRONMENT",
      "JWT_SIGNING_KEYS",
      "JWT_SIGNING_KEYS",
      "REFRESH_TOKEN_SECRET",
    ]);
    expect(JSON.stringify(issues)).not.toContain("c2hvcnQ=");
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

  it("refuses a weak refresh-token secret", async () => {
    for (const weak of ["", "A".repeat(64), btoa("x".repeat(16))]) {
      expect((await issuesOf({ ...base(), REFRESH_TOKEN_SECRET: weak })).map((i) => i.key)).toContain(
        "REFRESH_TOKEN_SECRET",
      );
    }
  });

  it("refuses development keys, http URLs and the dev email outbox in production", async () => {
    const issues = await issuesOf({ ...base(), ENVIRONMENT: "production", APP_BASE_URL: "http://api.example.com" });
    expect(issues.map((i) => i.key).sort()).toEqual([
      "APP_BASE_URL",
      "APP_LINK_BASE_URL",
      "CORS_ALLOWED_ORIGINS",
      "EMAIL_TRANSPORT",
      "ENCRYPTION_KEYS",
      "JWT_SIGNING_KEYS",
    ]);
  });

  it("requires the email API key when sending through Resend", async () => {
    expect((await issuesOf({ ...base(), EMAIL_TRANSPORT: "resend" })).map((i) => i.key)).toEqual(["RESEND_API_KEY"]);
  });

  it("accepts production keys and https everywhere", async () => {
    const config = await parseConfig({
      ENVIRONMENT: "production",
      APP_BASE_URL: "https://api.example.com/",
      APP_LINK_BASE_URL: "https://app.example.com/",
      CORS_ALLOWED_ORIGINS: "https://app.example.com",
      JWT_SIGNING_KEYS: JSON.stringify([newSigningJwk("prod")]),
      REFRESH_TOKEN_SECRET: generateSecrets().REFRESH_TOKEN_SECRET,
      ENCRYPTION_KEYS: newEncryptionKey("k"),
      EMAIL_TRANSPORT: "resend",
      RESEND_API_KEY: "re_live_key_123",
    });
    expect(config.appBaseUrl).toBe("https://api.example.com");
    // Emailed links lead to the app, the OAuth redirect to the API.
    expect(config.appLinkBaseUrl).toBe("https://app.example.com");
    expect(config.email).toMatchObject({ transport: "resend", resendApiKey: "re_live_key_123" });
  });
});
