import { defineConfig } from "vitest/config";

// The end-to-end suite runs in Node. `e2e` drives a real `wrangler dev` over HTTP (its global
// setup starts one); `node` holds checks of the repository's scripts and files that need no such
// server (*.node.test.ts; one starts `npm run dev` on its own), so running them alone starts no
// suite server (a project's global setup runs only when that project has tests queued).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.e2e.test.ts"],
          globalSetup: ["./test/e2e/global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "node",
          include: ["test/e2e/**/*.node.test.ts"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
