import { describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM helper without type declarations.
import { generateSecrets } from "../../scripts/lib/secrets.mjs";
import { ConfigError, parseConfig } from "../../src/config";

const base = () => ({
  ENVIRONMENT: "test",
  LEDGERLINK_LOCAL: "1",
  CORS_ALLOWED_ORIGINS: "http://localhost:3000",
  ...generateSecrets(),
});

async function keysOf(env: Record<string, unknown>) {
  try {
    await parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => i.key);
  }
  throw new Error("expected a ConfigError");
}

describe("sync configuration", () => {
  it("has defaults: on, every 4 hours, 5 attempts with 5 s..300 s full-jitter backoff", async () => {
    const { sync } = await parseConfig(base());
    expect(sync).toMatchObject({
      disabled: false,
      intervalMs: 4 * 3_600_000,
      retry: { baseSeconds: 5, capSeconds: 300, maxAttempts: 5 },
      cooldown: { afterFailures: 3, ms: 30 * 60_000, paymentMs: 24 * 3_600_000 },
      manualMinIntervalMs: 300_000,
      overlapMs: 7 * 86_400_000,
    });
  });

  it("reads the kill switch as a string or a TOML boolean", async () => {
    for (const v of ["true", "1", true])
      expect((await parseConfig({ ...base(), SYNC_DISABLED: v })).sync.disabled).toBe(true);
    for (const v of ["false", "0", "", false]) {
      expect((await parseConfig({ ...base(), SYNC_DISABLED: v })).sync.disabled).toBe(false);
    }
    expect(await keysOf({ ...base(), SYNC_DISABLED: "yes" })).toEqual(["SYNC_DISABLED"]);
  });

  it("refuses attempts past the Queues backstop, delays past 12 hours, and a cap below the base", async () => {
    expect(await keysOf({ ...base(), SYNC_MAX_ATTEMPTS: "11" })).toEqual(["SYNC_MAX_ATTEMPTS"]);
    expect(await keysOf({ ...base(), SYNC_RETRY_CAP_SECONDS: "43201" })).toEqual(["SYNC_RETRY_CAP_SECONDS"]);
    expect(await keysOf({ ...base(), SYNC_RETRY_BASE_SECONDS: "60", SYNC_RETRY_CAP_SECONDS: "30" })).toEqual([
      "SYNC_RETRY_CAP_SECONDS",
    ]);
    expect(await keysOf({ ...base(), SYNC_INTERVAL_MINUTES: "1" })).toEqual(["SYNC_INTERVAL_MINUTES"]);
  });
});
