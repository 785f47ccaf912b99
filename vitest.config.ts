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
            LOG_LEVEL: "silent",
            ADMIN_EMAILS: "root@ledgerlink.test",
            TEST_MIGRATIONS: migrations,
          },
        },
      }),
    ],
    test: {
      include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
      setupFiles: ["./test/support/apply-migrations.ts"],
    },
  };
});
