import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, inject, it } from "vitest";
// @ts-expect-error: plain ESM helper shared with `npm run dev`.
import { ROOT } from "../../scripts/lib/local.mjs";

const base = inject("baseUrl");
const node = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });

describe("the typed client (client/)", () => {
  it("its generated types match the server's OpenAPI document (no drift)", () => {
    const r = node([resolve(ROOT, "client/scripts/generate.mjs"), `${base}/openapi.json`, "--check"]);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });

  it("`npm run client:example` walks the whole journey against a running server", () => {
    const r = node([resolve(ROOT, "client/examples/journey.ts")], { BASE_URL: base });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    for (const line of [
      /✓ registered/,
      /✓ verified/,
      /✓ logged in/,
      /✓ connected sandbox/,
      /✓ synced: 2 accounts, 200 transactions/,
      /✓ read the change feed: 200 transactions/,
      /✓ logged out/,
    ]) {
      expect(r.stdout).toMatch(line);
    }
  });
});
