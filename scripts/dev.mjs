#!/usr/bin/env node
// `npm run dev [-- wrangler dev options]`: local settings, migrations, then `wrangler dev` with
// triggerable crons on $PORT. Extra arguments go to wrangler (e.g. `-- --var ADMIN_EMAILS:me@x.y`).
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { DEV_VARS, devArgs, dotenvKeys, ensureDevVars, migrateLocal, ROOT } from "./lib/local.mjs";

const vars = ensureDevVars();
if (vars !== "unchanged") console.log(`.dev.vars: ${vars === "created" ? "created with development settings" : vars}.`);
const applied = migrateLocal();
const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`PORT must be a TCP port number, got ${process.env.PORT}`);
  process.exit(2);
}
const base = `http://localhost:${port}`;
// Links in emails and OAuth redirects lead back to this server, unless APP_BASE_URL is set
// (in the environment or .dev.vars) to something else on purpose.
const baseUrlVars = process.env.APP_BASE_URL || dotenvKeys(DEV_VARS).has("APP_BASE_URL") ? {} : { APP_BASE_URL: base };
const extra = process.argv.slice(2);
console.log(`
Ledgerlink (development)${applied?.length ? `  ·  migrations applied: ${applied.join(", ")}` : ""}
  API        ${base}/api/v1
  Health     ${base}/health  ·  ${base}/health/ready
  Docs       ${base}/docs  ·  OpenAPI ${base}/openapi.json
  Dev outbox ${base}/api/v1/dev/outbox?to=EMAIL
  Sandbox    ${base}/sandbox  (Schwab simulator: POST /api/v1/connections {"provider":"sandbox"})
  Cron       curl "${base}/__scheduled?cron=*/5+*+*+*+*"
  Settings   .dev.vars (any variable of the README's table; restart to apply)
`);
const child = spawn(resolve(ROOT, "node_modules/.bin/wrangler"), devArgs({ port, vars: baseUrlVars, extra }), {
  cwd: ROOT,
  stdio: "inherit",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
