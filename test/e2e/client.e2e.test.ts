import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, inject, it } from "vitest";
// @ts-expect-error: plain ESM helper shared with `npm run dev`.
import { ROOT } from "../../scripts/lib/local.mjs";
import { JOURNEY_STEPS } from "./support";

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
    for (const line of JOURNEY_STEPS) expect(r.stdout).toMatch(line);
  });
});
