#!/usr/bin/env node
// `npm run dev [-- wrangler dev options]`: local settings, migrations, then `wrangler dev` with
// triggerable crons on `--port` or $PORT (default 8787). Extra arguments go to wrangler (e.g.
// `-- --var ADMIN_EMAILS:me@x.y`, `-- --ip 0.0.0.0`); see devPlan in lib/local.mjs.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { DEV_VARS, devPlan, dotenvKeys, ensureDevVars, migrateLocal, ROOT } from "./lib/local.mjs";
import { filterWranglerOutput } from "./lib/quiet-wrangler.mjs";

const vars = ensureDevVars();
if (vars !== "unchanged") console.log(`.dev.vars: ${vars === "created" ? "created with development settings" : vars}.`);
let plan;
try {
  plan = devPlan({ argv: process.argv.slice(2), env: process.env, devVarsKeys: dotenvKeys(DEV_VARS) });
} catch (err) {
  console.error(err.message);
  process.exit(2);
}
const applied = migrateLocal({ persistTo: plan.persistTo });
const { base } = plan;
const banner = `
Ledgerlink (development)${applied?.length ? `  ·  migrations applied: ${applied.join(", ")}` : ""}
  API        ${base}/api/v1
  Health     ${base}/health  ·  ${base}/health/ready
  Docs       ${base}/docs  ·  OpenAPI ${base}/openapi.json
  Dev outbox ${base}/api/v1/dev/outbox?to=EMAIL
  Sandbox    ${base}/sandbox  (Schwab simulator: POST /api/v1/connections {"provider":"sandbox"})
  Cron       curl "${base}/__scheduled?cron=*/5+*+*+*+*"
  Settings   .dev.vars (any variable of the README's table; restart to apply)
`;
const child = spawn(resolve(ROOT, "node_modules/.bin/wrangler"), plan.args, {
  cwd: ROOT,
  stdio: ["inherit", "pipe", "pipe"],
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});
// The banner comes once the server answers, so it is the last thing on the screen.
filterWranglerOutput(child.stdout, process.stdout, () => console.log(banner));
filterWranglerOutput(child.stderr, process.stderr);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
