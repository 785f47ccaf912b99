#!/usr/bin/env node
// `npm run test:e2e [-- vitest options or file filters]`: the two projects of vitest.e2e.config.ts
// side by side. `e2e` drives the one shared `wrangler dev` file after file (its files fire crons
// whose effects every other file would see, so they never overlap); `node` starts servers of its
// own or none, so it runs meanwhile. Its report is held back and printed after the other's, so the
// two never interleave. With `--project` given, that is one plain vitest run.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { ROOT } from "./lib/local.mjs";

const VITEST = resolve(ROOT, "node_modules/.bin/vitest");
const args = process.argv.slice(2);

/** Runs vitest on the e2e config; resolves with its exit code and, when held back, its output. */
function vitest(extra, { holdBack = false } = {}) {
  return new Promise((res) => {
    const child = spawn(VITEST, ["run", "--config", "vitest.e2e.config.ts", ...extra, ...args], {
      cwd: ROOT,
      stdio: holdBack ? ["ignore", "pipe", "pipe"] : "inherit",
    });
    let output = "";
    if (holdBack) {
      child.stdout.on("data", (d) => {
        output += d;
      });
      child.stderr.on("data", (d) => {
        output += d;
      });
    }
    child.on("error", (err) => res({ code: 1, output: `${output}${err.message}\n` }));
    child.on("exit", (code, signal) => res({ code: code ?? (signal ? 1 : 0), output }));
  });
}

if (args.some((a) => a === "--project" || a.startsWith("--project="))) {
  process.exit((await vitest([])).code);
}
// A filter may match files of one project only: the other then has nothing to run.
const [shared, own] = await Promise.all([
  vitest(["--project", "e2e", "--passWithNoTests"]),
  vitest(["--project", "node", "--passWithNoTests"], { holdBack: true }),
]);
process.stdout.write(`\n── project node (ran alongside) ──\n${own.output}`);
process.exit(shared.code || own.code);
