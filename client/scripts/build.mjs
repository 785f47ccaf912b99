#!/usr/bin/env node
// Builds the package (`npm run build`, run by `npm pack` through `prepack`): ESM JavaScript and
// .d.ts from src/ by plain tsc, plus the generated schema.d.ts, which tsc does not copy (a
// declaration file is an input, never an output). A fresh dist/ each time, so nothing stale ships.
import { spawnSync } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const dist = resolve(root, "dist");
// The client's own TypeScript (its devDependency), whatever the workspace root has.
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

rmSync(dist, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, "-p", resolve(root, "tsconfig.build.json")], { stdio: "inherit" });
if (r.status !== 0) process.exit(r.status ?? 1);
copyFileSync(resolve(root, "src/schema.d.ts"), resolve(dist, "schema.d.ts"));
