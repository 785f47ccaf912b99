import { defineConfig } from "vitest/config";

// The end-to-end suite runs in Node. `e2e` drives a real `wrangler dev` over HTTP (its global
// setup starts one), one file at a time: its files fire crons whose effects the others would see.
// `node` holds what needs no such server (*.node.test.ts): checks of the repository's scripts and
// files, and tests that start servers of their own (the key rotation runbook, `npm run dev`), so
// running them alone starts no suite server (a project's global setup runs only when that project
// has tests queued). `npm run test:e2e` (scripts/test-e2e.mjs) runs the two projects side by side.
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
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
