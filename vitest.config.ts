import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
// @ts-expect-error: plain ESM helper shared with `npm run dev`, no type declarations.
import { generateSecrets } from "./scripts/lib/secrets.mjs";

// Unit and integration tests run inside workerd against real D1, Durable Objects and Queues,
// configured from wrangler.toml. Migrations are applied by test/support/apply-migrations.ts.
export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            ...generateSecrets(),
            ENVIRONMENT: "test",
            // `TEST_LOG=warn npx vitest run …` shows the Worker's own logs (silent otherwise).
            LOG_LEVEL: process.env.TEST_LOG ?? "silent",
            ADMIN_EMAILS: "root@ledgerlink.test",
            // Real Queue retries in tests wait at most a couple of seconds.
            SYNC_RETRY_BASE_SECONDS: "1",
            SYNC_RETRY_CAP_SECONDS: "2",
            TEST_MIGRATIONS: migrations,
          },
        },
      }),
    ],
    test: {
      include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
      setupFiles: ["./test/support/apply-migrations.ts"],
      // Journeys hash passwords (scrypt, ~0.2 s each) many times; on a loaded 2-core CI machine
      // the 5 s default is too tight to tell slowness from failure.
      testTimeout: 30_000,
    },
  };
});
