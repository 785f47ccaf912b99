import { availableParallelism } from "node:os";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { unstable_readConfig } from "wrangler";
// @ts-expect-error: plain ESM helper shared with `npm run dev`, no type declarations.
import { dotenvKeys } from "./scripts/lib/local.mjs";
// @ts-expect-error: plain ESM helper shared with `npm run dev`, no type declarations.
import { generateSecrets } from "./scripts/lib/secrets.mjs";

/**
 * Every setting the Worker reads, at its committed value ("" = default), so a developer's
 * .dev.vars (which wrangler also loads) can never change what the suites see.
 */
function committedSettings(): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const key of dotenvKeys("./.dev.vars.example") as Set<string>) settings[key] = "";
  for (const [key, value] of Object.entries(unstable_readConfig({ config: "./wrangler.toml" }).vars)) {
    settings[key] = String(value);
  }
  return settings;
}

/**
 * Suites that judge password hashing itself (login, lockout, password flows) run at the
 * production (OWASP) scrypt cost; everything else hashes at a lowered cost, which only
 * ENVIRONMENT=test may set (src/config.ts), so the inner loop stays fast.
 */
const OWASP_COST_SUITES = ["test/integration/login.test.ts", "test/integration/passwords.test.ts"];

/**
 * Suites that change state every other suite would see (re-wrapping every stored secret, a
 * global token rotation) keep fresh storage per file. The rest share one runtime per worker
 * (vitest `isolate: false`, ~40 s faster here): they only ever touch their own users, clients
 * and connections, so they cannot see each other.
 */
const ISOLATED_SUITES = [
  "test/integration/connections-rotation.test.ts",
  "test/integration/mfa.test.ts",
  "test/integration/gate-revocation.test.ts",
  // Moves the shared test clock and rebuilds objects from an older schema.
  "test/integration/home.test.ts",
  // Pins the shared test clock (TOTP steps).
  "test/integration/security-review-2.test.ts",
  // Drains the sandbox provider's outbound budget.
  "test/integration/outbound-limits.test.ts",
  // Writes outcome counts that would degrade every other suite's readiness.
  "test/integration/readiness.test.ts",
  // Fires the sync cron through the real queue, which syncs every due connection in the database:
  // in a shared runtime that is every other suite's connections, and its tests wait for them all.
  "test/integration/sync-schedule.test.ts",
];

/** Suites that read the Worker's own log lines (traces): they run with LOG_LEVEL=info. */
const LOGGED_SUITES = ["test/integration/traces.test.ts"];

/**
 * What the workers are handed first. On two cores most of a run is waiting (real Queue deliveries
 * and retries, runtimes starting), so the long, CPU-bound files go first and the many short files
 * fill the gaps at the end: the production-cost hashing suites and the no-500 sweep (each of them
 * CPU for 15 s and more, and the sweep, a small file, would otherwise start last on a fresh clone,
 * where vitest has no timings and orders by size), then the isolated suites (each starts a runtime
 * of its own), then the rest. Within each, vitest's own order: longest last time, else largest.
 */
const START_FIRST = [...OWASP_COST_SUITES, "test/integration/no-500.test.ts"];
const START_ORDER = ["workers-owasp-cost", "workers-isolated", "workers-logged", "workers"];

class StartOrderSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]) {
    const rank = (s: TestSpecification) => {
      const first = START_FIRST.findIndex((f) => s.moduleId.endsWith(`/${f}`));
      return first >= 0 ? first : START_FIRST.length + START_ORDER.indexOf(s.project.name);
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

// Wrangler's own informational lines (which files it read) are noise in a test run.
process.env.WRANGLER_LOG ??= "warn";

// Unit and integration tests run inside workerd against real D1, Durable Objects and Queues,
// configured from wrangler.toml. Migrations are applied by test/support/apply-migrations.ts.
export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  const secrets = generateSecrets();
  const workers = (name: string, extra: Record<string, string>) =>
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // An empty database for tests that apply migrations step by step (upgrades in place).
        d1Databases: { MIGRATION_DB: "ledgerlink-migration-test" },
        bindings: {
          ...committedSettings(),
          ...secrets,
          ENVIRONMENT: "test",
          // The local-only switch (src/config.ts LOCAL_SWITCH): without it "test" runs as production.
          LEDGERLINK_LOCAL: "1",
          // `TEST_LOG=warn npx vitest run …` shows the Worker's own logs (silent otherwise).
          LOG_LEVEL: process.env.TEST_LOG ?? "silent",
          ADMIN_EMAILS: "root@ledgerlink.test",
          // Real Queue retries (syncs, emails) in tests wait at most a couple of seconds.
          SYNC_RETRY_BASE_SECONDS: "1",
          SYNC_RETRY_CAP_SECONDS: "2",
          EMAIL_RETRY_BASE_SECONDS: "1",
          EMAIL_RETRY_CAP_SECONDS: "2",
          TEST_MIGRATIONS: migrations,
          TEST_PROJECT: name,
          ...extra,
        },
      },
    });
  const shared = {
    setupFiles: ["./test/support/apply-migrations.ts"],
    // Generous: a loaded 2-core CI machine must not turn slowness into failure.
    testTimeout: 30_000,
  };
  const fast = { PASSWORD_HASH_COST: "ln=4,r=8,p=1" };
  return {
    test: {
      // Runtimes at once. The suites wait (real Queue deliveries and retries, timers, runtimes
      // starting) about as long as they compute, so at least 4 even on 2 cores (vitest's default
      // there is 1, and one file at a time took over two minutes); one per core beyond that.
      maxWorkers: Math.max(4, availableParallelism()),
      sequence: { sequencer: StartOrderSequencer },
      projects: [
        {
          plugins: [workers("fast", fast)],
          test: {
            ...shared,
            name: "workers",
            include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
            exclude: [...OWASP_COST_SUITES, ...ISOLATED_SUITES, ...LOGGED_SUITES],
            isolate: false,
          },
        },
        {
          plugins: [workers("fast", fast)],
          test: { ...shared, name: "workers-isolated", include: ISOLATED_SUITES },
        },
        {
          plugins: [workers("fast", { ...fast, LOG_LEVEL: "info" })],
          test: { ...shared, name: "workers-logged", include: LOGGED_SUITES },
        },
        {
          plugins: [workers("owasp-cost", {})],
          test: { ...shared, name: "workers-owasp-cost", include: OWASP_COST_SUITES },
        },
      ],
    },
  };
});
