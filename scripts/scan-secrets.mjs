#!/usr/bin/env node
// `npm run secrets:scan`: secretlint (recommended rules) over every tracked file, so a real key
// never reaches the repository. Development placeholders are allowed explicitly in
// .secretlintignore; anything else that looks like a secret fails the run.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { ROOT } from "./lib/local.mjs";

const files = spawnSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" })
  .stdout.split("\0")
  .filter((f) => f && f !== "package-lock.json");
const r = spawnSync(
  resolve(ROOT, "node_modules/.bin/secretlint"),
  ["--secretlintignore", ".secretlintignore", "--maskSecrets", ...files],
  { cwd: ROOT, stdio: "inherit" },
);
process.exit(r.status ?? 1);
