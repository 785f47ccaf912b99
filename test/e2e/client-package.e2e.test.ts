import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build, transform } from "esbuild";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
// @ts-expect-error: plain ESM helper shared with `npm run dev`.
import { ROOT } from "../../scripts/lib/local.mjs";
import { JOURNEY_STEPS } from "./support";

// The client as an app gets it: `npm pack` (its prepack builds dist/), the tarball installed into
// a fresh project outside this repository that has no TypeScript, then used from there as plain
// ESM in Node, bundled for a browser, and typechecked as a TypeScript app would.
const base = inject("baseUrl");
const app = mkdtempSync(join(tmpdir(), "ledgerlink-client-app-"));
const installed = join(app, "node_modules/@ledgerlink/client");

const run = (command: string, args: string[], cwd: string, env: Record<string, string> = {}) =>
  spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });
const output = (r: SpawnSyncReturns<string>) => `${r.stdout}${r.stderr}${r.error ?? ""}`;

/** Every file under `dir`, relative to it, sorted. */
const filesUnder = (dir: string) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();

beforeAll(() => {
  const packed = run("npm", ["pack", "-w", "client", "--pack-destination", app], ROOT);
  if (packed.status !== 0) throw new Error(`npm pack failed:\n${output(packed)}`);
  const tarball = readdirSync(app).find((f) => f.endsWith(".tgz"));
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "ledgerlink-client-app", private: true }));
  // Both packages' tarballs come from the npm cache (the repository's own install put openapi-fetch
  // there). --offline is not enough on a fresh machine: an install from a lockfile caches only the
  // registry's abbreviated metadata, and adding a package by tarball asks for the full one, which
  // --prefer-offline fetches once (then everything is cached and the network is not touched).
  const install = run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", `./${tarball}`], app);
  if (install.status !== 0) throw new Error(`npm install of ${tarball} failed:\n${output(install)}`);
}, 240_000);
afterAll(() => {
  rmSync(app, { recursive: true, force: true });
});

describe("the client as a package (npm pack, installed in an app outside the repository)", () => {
  it("ships only dist/, README and licence, at the API's version, with openapi-fetch its one dependency", async () => {
    expect(filesUnder(installed)).toEqual([
      "LICENSE",
      "README.md",
      "dist/index.d.ts",
      "dist/index.js",
      "dist/schema.d.ts",
      "package.json",
    ]);
    const pkg = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { info: { version: string } };
    expect(pkg.version).toBe(doc.info.version);
    expect(pkg.license).toBe("MIT");
    expect(Object.keys(pkg.dependencies)).toEqual(["openapi-fetch"]);
    expect(existsSync(join(app, "node_modules/openapi-fetch/package.json"))).toBe(true);
    expect(existsSync(join(app, "node_modules/typescript"))).toBe(false);
  });

  it("runs the `npm run client:example` journey from a plain .mjs file in Node", async () => {
    // The same journey, its types stripped and its import pointed at the installed package.
    const source = readFileSync(resolve(ROOT, "client/examples/journey.ts"), "utf8");
    const { code } = await transform(source, { loader: "ts", format: "esm" });
    const script = code.replace('"../src/index.ts"', '"@ledgerlink/client"');
    expect(script).toContain('from "@ledgerlink/client"');
    writeFileSync(join(app, "journey.mjs"), script);

    const r = run(process.execPath, ["journey.mjs"], app, { BASE_URL: base });
    expect(r.status, output(r)).toBe(0);
    for (const line of JOURNEY_STEPS) expect(r.stdout).toMatch(line);
  }, 120_000);

  it("bundles for the browser without pulling in any Node built-in", async () => {
    const builtins: string[] = [];
    const result = await build({
      // A re-export of everything, so no part of the package is tree-shaken out of the check.
      stdin: { contents: 'export * from "@ledgerlink/client";', resolveDir: app },
      absWorkingDir: app,
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      metafile: true,
      logLevel: "silent",
      plugins: [
        {
          name: "node-built-ins",
          setup(b) {
            b.onResolve({ filter: /^[^./]/ }, ({ path, importer }) => {
              if (!isBuiltin(path)) return undefined;
              builtins.push(`${path} (imported by ${importer})`);
              return { path, external: true };
            });
          },
        },
      ],
    });
    expect(builtins).toEqual([]);
    expect(Object.keys(result.metafile.inputs)).toEqual(
      expect.arrayContaining([
        "node_modules/@ledgerlink/client/dist/index.js",
        "node_modules/openapi-fetch/dist/index.mjs",
      ]),
    );
  });

  it("gives a TypeScript app the API's types through the `types` export", () => {
    writeFileSync(
      join(app, "typed.mts"),
      `import { createLedgerlink, LedgerlinkError, type Session } from "@ledgerlink/client";
const client = createLedgerlink({ baseUrl: "https://api.example.com" });
export async function currencies(): Promise<string[]> {
  const { accounts } = await client.ok(client.api.GET("/api/v1/accounts"));
  return accounts.map((a) => a.currency);
}
export const held = async (): Promise<Session | null> => client.session.get();
export const expired = (e: unknown) => e instanceof LedgerlinkError && e.code === "token_expired";
// @ts-expect-error: no such path, so a typo does not compile
client.api.GET("/api/v1/acounts");
`,
    );
    // The client's own TypeScript, run from outside: the app itself installs none.
    const tsc = createRequire(resolve(ROOT, "client/package.json")).resolve("typescript/bin/tsc");
    const args = ["--noEmit", "--strict", "--module", "nodenext", "--target", "es2022", "--lib", "es2022,dom"];
    const r = run(process.execPath, [tsc, ...args, "typed.mts"], app);
    expect(r.status, output(r)).toBe(0);
  }, 60_000);
});
