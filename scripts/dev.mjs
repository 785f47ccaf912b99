#!/usr/bin/env node
// `npm run dev`: secrets, migrations, then `wrangler dev` with triggerable crons on $PORT.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { devArgs, ensureDevVars, migrateLocal, ROOT } from "./lib/local.mjs";

const vars = ensureDevVars();
if (vars !== "unchanged")
  console.log(`.dev.vars: ${vars === "created" ? "created with fresh development secrets" : vars}.`);
migrateLocal();
const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`PORT must be a TCP port number, got ${process.env.PORT}`);
  process.exit(2);
}
const base = `http://localhost:${port}`;
console.log(`
Ledgerlink (development)
  API        ${base}/api/v1
  Health     ${base}/health  ·  ${base}/health/ready
  Docs       ${base}/docs  ·  OpenAPI ${base}/openapi.json
  Dev outbox ${base}/api/v1/dev/outbox?to=EMAIL
  Sandbox    ${base}/sandbox  (Schwab simulator: POST /api/v1/connections {"provider":"sandbox"})
  Cron       curl "${base}/__scheduled?cron=*/5+*+*+*+*"
`);
const child = spawn(resolve(ROOT, "node_modules/.bin/wrangler"), devArgs({ port }), { cwd: ROOT, stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
