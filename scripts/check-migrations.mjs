#!/usr/bin/env node
// Fails when src/db/schema.ts and migrations/ disagree: drizzle-kit generates into a copy of
// migrations/, and any new file means the schema changed without a migration.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ROOT } from "./lib/local.mjs";

const src = resolve(ROOT, "migrations");
const copy = mkdtempSync(join(tmpdir(), "ledgerlink-migrations-"));
try {
  cpSync(src, copy, { recursive: true });
  const before = readdirSync(copy).sort();
  const r = spawnSync(resolve(ROOT, "node_modules/.bin/drizzle-kit"), ["generate", "--name", "pending"], {
    cwd: ROOT,
    env: { ...process.env, DRIZZLE_OUT: copy },
    encoding: "utf8",
  });
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    process.exit(1);
  }
  const added = readdirSync(copy).filter((f) => !before.includes(f));
  if (added.length > 0) {
    console.error(`Schema and migrations disagree: drizzle-kit would add ${added.join(", ")}.`);
    console.error("Run `npm run db:generate -- --name <change>` and commit the migration.");
    process.exit(1);
  }
  console.log("Schema and migrations agree.");
} finally {
  rmSync(copy, { recursive: true, force: true });
}
