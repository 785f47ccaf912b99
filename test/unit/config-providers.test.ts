import { describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM helper without type declarations.
import { generateSecrets, newEncryptionKey } from "../../scripts/lib/secrets.mjs";
import { ConfigError, parseConfig } from "../../src/config";

const base = () => ({
  ENVIRONMENT: "test",
  LEDGERLINK_LOCAL: "1",
  CORS_ALLOWED_ORIGINS: "http://localhost:3000",
  ...generateSecrets(),
});
const production = () => ({
  ...base(),
  ENVIRONMENT: "production",
  EMAIL_TRANSPORT: "resend",
  RESEND_API_KEY: "re_1234567890",
  APP_BASE_URL: "https://api.example.com",
  APP_LINK_BASE_URL: "https://app.example.com",
  CORS_ALLOWED_ORIGINS: "https://app.example.com",
  JWT_SIGNING_KEYS: JSON.stringify(
    JSON.parse(generateSecrets().JWT_SIGNING_KEYS).map((k: { kid: string }) => ({ ...k, kid: `prod-${k.kid}` })),
  ),
  ENCRYPTION_KEYS: newEncryptionKey("k"),
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

describe("provider and encryption config", () => {
  it("builds a keyring, provider defaults and an in-process sandbox outside production", async () => {
    const config = await parseConfig(base());
    expect(config.encryption.keyring.activeKeyId).toMatch(/^dev-/);
    expect(config.providers).toMatchObject({
      schwab: null,
      timeouts: { connectMs: 5000, totalMs: 20000 },
      reauthWarningMs: 48 * 3_600_000,
    });
    expect(config.providers.sandbox?.clientId).toBe("ledgerlink-sandbox");
    // Derived from REFRESH_TOKEN_SECRET: stable for a deployment, different between deployments.
    expect(
      (await parseConfig({ ...base(), REFRESH_TOKEN_SECRET: base().REFRESH_TOKEN_SECRET })).providers.sandbox?.secret,
    ).not.toBe(config.providers.sandbox?.secret);
  });

  it("refuses a missing or malformed keyring, naming the entry but never the key", async () => {
    const { ENCRYPTION_KEYS: _, ...missing } = base();
    expect(await issuesOf(missing)).toEqual([{ key: "ENCRYPTION_KEYS", message: "is required" }]);
    const secret = "c2VjcmV0LWJ1dC1zaG9ydA==";
    const issues = await issuesOf({ ...base(), ENCRYPTION_KEYS: `k1:${secret}` });
    expect(issues).toEqual([{ key: "ENCRYPTION_KEYS", message: "keyring entry 1 must decode to 32 bytes (got 16)" }]);
    expect(JSON.stringify(await issuesOf({ ...base(), ENCRYPTION_KEYS: secret }))).not.toContain(secret);
    expect((await issuesOf({ ...base(), ENCRYPTION_KEYS: "" }))[0]?.key).toBe("ENCRYPTION_KEYS");
  });

  it("offers Schwab only with both client credentials, and refuses half", async () => {
    const on = await parseConfig({ ...base(), SCHWAB_CLIENT_ID: "key", SCHWAB_CLIENT_SECRET: "secret" });
    expect(on.providers.schwab).toEqual({
      clientId: "key",
      clientSecret: "secret",
      baseUrl: "https://api.schwabapi.com",
    });
    expect((await parseConfig({ ...base(), SCHWAB_CLIENT_ID: "" })).providers.schwab).toBeNull();
    expect((await issuesOf({ ...base(), SCHWAB_CLIENT_ID: "key" })).map((i) => i.key)).toEqual([
      "SCHWAB_CLIENT_SECRET",
    ]);
    expect((await issuesOf({ ...base(), SCHWAB_CLIENT_SECRET: "s" })).map((i) => i.key)).toEqual(["SCHWAB_CLIENT_ID"]);
  });

  it("validates timeouts and URLs", async () => {
    const issues = await issuesOf({
      ...base(),
      PROVIDER_CONNECT_TIMEOUT_MS: "9000",
      PROVIDER_TIMEOUT_MS: "5000",
      SCHWAB_BASE_URL: "ftp://x",
    });
    expect(issues.map((i) => i.key).sort()).toEqual(["PROVIDER_CONNECT_TIMEOUT_MS", "SCHWAB_BASE_URL"]);
    expect((await issuesOf({ ...base(), PROVIDER_TIMEOUT_MS: "0" }))[0]?.key).toBe("PROVIDER_TIMEOUT_MS");
  });

  it("production refuses development keys and plain-http Schwab, and turns the sandbox off", async () => {
    const ok = await parseConfig(production());
    expect(ok.providers.sandbox).toBeNull();
    const dev = await issuesOf({ ...production(), ENCRYPTION_KEYS: newEncryptionKey("dev") });
    expect(dev).toEqual([{ key: "ENCRYPTION_KEYS", message: "development keys (id dev*) are refused in production" }]);
    const http = await issuesOf({ ...production(), SCHWAB_BASE_URL: "http://schwab.test" });
    expect(http.map((i) => i.key)).toEqual(["SCHWAB_BASE_URL"]);
  });
});
