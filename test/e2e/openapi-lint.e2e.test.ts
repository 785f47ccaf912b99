import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
// @ts-expect-error: plain ESM helper shared with `npm run dev`.
import { ROOT } from "../../scripts/lib/local.mjs";

const base = inject("baseUrl");
const dir = mkdtempSync(join(tmpdir(), "ledgerlink-openapi-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Op = {
  operationId?: string;
  summary?: string;
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema?: unknown; example?: { status?: number } }> }>;
};

/**
 * Warnings the committed redocly.yaml keeps on purpose (each has no such response to document):
 * liveness, readiness and the JWKS take no input, so they have no 4xx; the event stream answers
 * 101 Switching Protocols, not a 2xx.
 */
const KNOWN = new Set([
  "operation-4xx-response #/paths/~1health/get/responses",
  "operation-4xx-response #/paths/~1health~1ready/get/responses",
  "operation-4xx-response #/paths/~1.well-known~1jwks.json/get/responses",
  "operation-2xx-response #/paths/~1api~1v1~1events/get/responses",
]);

describe("the OpenAPI document, as integrators' tools read it", async () => {
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, Op>> };
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ where: `${method.toUpperCase()} ${path}`, op })),
  );

  it("passes `redocly lint` (recommended rules, redocly.yaml) with 0 errors and only the known warnings", () => {
    const file = join(dir, "openapi.json");
    writeFileSync(file, JSON.stringify(doc));
    const r = spawnSync(
      resolve(ROOT, "node_modules/.bin/redocly"),
      ["lint", "--config", resolve(ROOT, "redocly.yaml"), "--format", "json", file],
      { cwd: ROOT, encoding: "utf8" },
    );
    const report = JSON.parse(r.stdout) as {
      totals: { errors: number };
      problems: { ruleId: string; severity: string; location: { pointer: string }[] }[];
    };
    expect(report.totals.errors, r.stdout).toBe(0);
    const unexpected = report.problems.map((p) => `${p.ruleId} ${p.location[0]?.pointer}`).filter((p) => !KNOWN.has(p));
    expect(unexpected).toEqual([]);
  });

  it("every operation has a unique camelCase operationId and a summary; public ones say security: []", () => {
    const ids = ops.map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === "string" && /^[a-z][a-zA-Z0-9]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { where, op } of ops) {
      expect(op.summary, where).toBeTruthy();
      expect(Array.isArray(op.security), where).toBe(true);
    }
    const login = ops.find(({ op }) => op.operationId === "login")?.op;
    expect(login?.security).toEqual([]);
  });

  it("every documented error is problem+json with the schema and an example of its own status", () => {
    for (const { where, op } of ops) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (!/^[45]/.test(status)) continue;
        // Readiness answers 503 with its own report of the checks (docs/contract.md "System").
        if (where === "GET /health/ready" && status === "503") continue;
        const content = response.content?.["application/problem+json"];
        expect(content?.schema, `${where} ${status}`).toBeDefined();
        expect(content?.example?.status, `${where} ${status}`).toBe(Number(status));
      }
    }
  });
});
