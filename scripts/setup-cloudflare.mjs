#!/usr/bin/env node
// `npm run setup:cloudflare [-- --dry-run]`: creates what the Worker needs in your Cloudflare
// account (from wrangler.toml), writes wrangler.deploy.jsonc with the real ids, checks settings
// and secrets, applies the remote D1 migrations and deploys. Safe to run again. docs/deploy.md.
import { resolve } from "node:path";
import { ROOT } from "./lib/local.mjs";

const DEPLOY_CONFIG_NAME = "wrangler.deploy.jsonc";

const USAGE = `Usage: npm run setup:cloudflare [-- --dry-run] [-- --config <wrangler.toml>]

Creates what is missing in your Cloudflare account for this Worker: the D1 databases and every
queue and dead-letter queue that wrangler.toml names (Analytics Engine datasets need nothing:
Cloudflare creates them on the first write). Then writes ${DEPLOY_CONFIG_NAME} (wrangler.toml
with the real database ids; not committed), checks the production settings and that every
required secret is set (by name; values are never read), applies the remote D1 migrations and
deploys, both through ${DEPLOY_CONFIG_NAME}. A second run creates nothing and says so.

  --dry-run        print every step and the wrangler command it runs; call nothing
  --config <path>  the source config (default: wrangler.toml)
  -h, --help       this text

Log in first (npx wrangler login), or set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID.
Step by step: docs/deploy.md.`;

const args = process.argv.slice(2);
let dryRun = false;
let config = resolve(ROOT, "wrangler.toml");
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--help" || a === "-h") {
    console.log(USAGE);
    process.exit(0);
  } else if (a === "--dry-run") {
    dryRun = true;
  } else if (a === "--config" && args[i + 1]) {
    config = resolve(process.cwd(), args[++i]);
  } else {
    console.error(`Unknown argument: ${a}\n\n${USAGE}`);
    process.exit(2);
  }
}
// Loaded only for a run: importing wrangler takes seconds, --help should not.
const { runSetup } = await import("./lib/setup-cloudflare.mjs");
process.exitCode = runSetup({ configPath: config, dryRun });
