import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM helper shared with `npm run dev`.
import { ROOT } from "../../scripts/lib/local.mjs";

// The metrics contract (ops/analytics/contract.json, the table in docs/operations.md) and the
// committed Analytics Engine queries must stay in step: a query may only read the columns its
// kind defines, compare them with values the kind defines, and must weight by _sample_interval.

type Column = { name: string; values?: string[] };
type Contract = { dataset: string; binding: string; kinds: Record<string, Record<string, Column>> };

const folder = resolve(ROOT, "ops/analytics");
const contract = JSON.parse(readFileSync(resolve(folder, "contract.json"), "utf8")) as Contract;
const queries = readdirSync(folder).filter((f) => f.endsWith(".sql"));

const quoted = (list: string) => [...list.matchAll(/'([^']*)'/g)].map((m) => m[1] as string);

/** What is wrong with one query against the contract; empty when it keeps to it. */
function problemsOf(sql: string): string[] {
  const body = sql.replace(/--[^\n]*/g, " ");
  const problems: string[] = [];
  const kinds = new Set<string>();
  for (const m of body.matchAll(/\b(?:index1|blob1)\s*=\s*'([^']*)'/g)) kinds.add(m[1] as string);
  for (const m of body.matchAll(/\b(?:index1|blob1)\s+IN\s*\(([^)]*)\)/gi))
    for (const k of quoted(m[1] ?? "")) kinds.add(k);
  if (kinds.size === 0) problems.push("filters on no kind (index1 = '<kind>' or blob1 = '<kind>')");
  for (const k of kinds) if (!contract.kinds[k]) problems.push(`unknown kind ${k}`);
  const known = [...kinds].filter((k) => contract.kinds[k]);
  for (const column of new Set([...body.matchAll(/\b((?:blob|double|index)\d+)\b/g)].map((m) => m[1] as string))) {
    if (column === "index1" || column === "blob1") continue;
    for (const k of known) if (!contract.kinds[k]?.[column]) problems.push(`${column} is not defined for ${k}`);
  }
  const compared: [string, string][] = [];
  for (const m of body.matchAll(/\b(blob\d+)\s*(?:=|<>|!=)\s*'([^']*)'/g))
    compared.push([m[1] as string, m[2] as string]);
  for (const m of body.matchAll(/\b(blob\d+)\s+(?:NOT\s+)?IN\s*\(([^)]*)\)/gi)) {
    for (const v of quoted(m[2] ?? "")) compared.push([m[1] as string, v]);
  }
  for (const [column, value] of compared) {
    if (column === "blob1") continue;
    for (const k of known) {
      const values = contract.kinds[k]?.[column]?.values;
      if (values && !values.includes(value)) problems.push(`${column} of ${k} is never '${value}'`);
    }
  }
  if (!new RegExp(`\\bFROM\\s+${contract.dataset}\\b`, "i").test(body))
    problems.push(`reads no FROM ${contract.dataset}`);
  if (!body.includes("_sample_interval")) problems.push("ignores _sample_interval (sampled rows)");
  if (/\b(?:count|avg|quantile)\s*\(/i.test(body)) problems.push("an unweighted count/avg/quantile");
  if (!/\btimestamp\s*(?:>|>=|BETWEEN)/i.test(body)) problems.push("no timestamp filter");
  return problems;
}

describe("ops/analytics queries", () => {
  it("has the operator's queries", () => {
    expect(queries.sort()).toEqual(
      expect.arrayContaining([
        "dead-letters.sql",
        "login-failures.sql",
        "rate-limited.sql",
        "request-duration.sql",
        "sync-duration.sql",
        "sync-success-rate.sql",
      ]),
    );
  });

  for (const file of queries) {
    it(`${file} reads only what its kind defines`, () => {
      expect(problemsOf(readFileSync(resolve(folder, file), "utf8"))).toEqual([]);
    });
  }

  it("catches a query that strays from the contract", () => {
    const bad = `SELECT blob5, SUM(_sample_interval) FROM ${contract.dataset}
      WHERE index1 = 'rate_limit' AND blob3 = 'tenant' AND timestamp > NOW() - INTERVAL '1' DAY GROUP BY blob5`;
    expect(problemsOf(bad)).toEqual(["blob5 is not defined for rate_limit", "blob3 of rate_limit is never 'tenant'"]);
    expect(problemsOf(`SELECT count() FROM ${contract.dataset}`)).toEqual([
      "filters on no kind (index1 = '<kind>' or blob1 = '<kind>')",
      "ignores _sample_interval (sampled rows)",
      "an unweighted count/avg/quantile",
      "no timestamp filter",
    ]);
  });
});

describe("docs/operations.md", () => {
  const doc = readFileSync(resolve(ROOT, "docs/operations.md"), "utf8");

  it("shows the contract's layout: the same columns per kind, the same values", () => {
    const lines = doc.split("\n");
    const header = lines.findIndex((l) => l.startsWith("| kind (blob1, also index1)"));
    expect(header).toBeGreaterThan(-1);
    const cells = (l: string) =>
      l
        .slice(1, -1)
        .split("|")
        .map((c) => c.trim());
    const columns = cells(lines[header] as string).map((c) => /^(blob\d|double\d)/.exec(c)?.[1] ?? "kind");
    const rows = lines
      .slice(header + 2)
      .filter((l, i, all) => l.startsWith("|") && all.slice(0, i).every((p) => p.startsWith("|")));
    const documented: Record<string, Record<string, string>> = {};
    for (const row of rows) {
      const [kind, ...rest] = cells(row);
      const name = /`([a-z_]+)`/.exec(kind ?? "")?.[1] as string;
      documented[name] = Object.fromEntries(
        rest.map((c, i) => [columns[i + 1] as string, c]).filter(([, c]) => c !== ""),
      );
    }
    expect(Object.keys(documented).sort()).toEqual(Object.keys(contract.kinds).sort());
    for (const [kind, defined] of Object.entries(contract.kinds)) {
      expect(Object.keys(documented[kind] ?? {}).sort(), kind).toEqual(Object.keys(defined).sort());
      for (const [column, { values }] of Object.entries(defined)) {
        if (!values) continue;
        const shown = [...(documented[kind]?.[column] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1]);
        expect(shown, `${kind} ${column}`).toEqual(values);
      }
    }
    expect(doc).toContain(`\`${contract.dataset}\``);
    expect(doc).toContain(`\`${contract.binding}\``);
  });
});
