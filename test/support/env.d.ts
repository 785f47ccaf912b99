import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      /** Test-only binding set in vitest.config.ts. */
      TEST_MIGRATIONS: D1Migration[];
      /** Which vitest project runs the file: `fast` (lowered hash cost) or `owasp-cost`. */
      TEST_PROJECT: string;
      /** An empty D1 database for migration tests (vitest.config.ts). */
      MIGRATION_DB: D1Database;
    }
  }
}
