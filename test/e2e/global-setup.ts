import { rmSync } from "node:fs";
import { resolve } from "node:path";
import type { TestProject } from "vitest/node";
// @ts-expect-error: plain ESM helper shared with `npm run dev` and the benchmarks.
import { ROOT, startDevServer } from "../../scripts/lib/local.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    /** The server's local state directory (for looking at its D1 directly). */
    persistTo: string;
  }
}

// A real `wrangler dev` with its own fresh local state, so the suite never touches the
// developer's database and always starts from the migrations.
export default async function setup(project: TestProject) {
  const persistTo = resolve(ROOT, ".wrangler/e2e-state");
  rmSync(persistTo, { recursive: true, force: true });
  // A 1 s refresh grace window lets the journey observe reuse detection without a long wait;
  // a 1–2 s sync backoff and a 1 s provider header timeout let it watch real Queue retries and
  // a dead letter in seconds; no spacing between manual syncs lets a test sync one connection
  // several times in a row (a re-sync, a bank's daily quota) over HTTP alone.
  const server = await startDevServer({
    persistTo,
    log: process.env.E2E_LOG === "1",
    vars: {
      REFRESH_REUSE_GRACE_SECONDS: "1",
      SYNC_RETRY_BASE_SECONDS: "1",
      SYNC_RETRY_CAP_SECONDS: "2",
      PROVIDER_CONNECT_TIMEOUT_MS: "1000",
      SYNC_MANUAL_MIN_INTERVAL_SECONDS: "0",
    },
    // Written to the server's env file, as a developer writes .dev.vars.
    settings: { ADMIN_EMAILS: "admin@e2e.ledgerlink.test" },
  });
  project.provide("baseUrl", server.url);
  project.provide("persistTo", persistTo);
  return async () => {
    await server.stop();
  };
}
