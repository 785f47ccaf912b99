/**
 * Metrics (issue 23 item 3): the data points the Worker writes to Analytics Engine, read from a
 * recording `METRICS` binding (locally the dataset cannot be queried). Each point is held to the
 * layout in ops/analytics/contract.json, and none carries personal data.
 */
import { describe, expect, it } from "vitest";
import contract from "../../ops/analytics/contract.json";
import { QUEUES } from "../../src/home/messages";
import { connectSandbox } from "../support/connections";
import { call, envWith } from "../support/http";
import { seededSession } from "../support/seed";
import { attempt, queuedRun } from "../support/sync";

interface Point {
  indexes?: string[];
  blobs?: string[];
  doubles?: number[];
}

/** The Worker's env with a `METRICS` binding that keeps what is written. */
function recording(vars: Record<string, string> = {}) {
  const points: Point[] = [];
  const metricsEnv = { ...envWith(vars), METRICS: { writeDataPoint: (p: Point) => void points.push(p) } } as Env;
  const of = (kind: string) => points.filter((p) => p.blobs?.[0] === kind).map(named);
  return { env: metricsEnv, points, of };
}

type Kinds = typeof contract.kinds;
type Column = { name: string; values?: string[] };

/** A point as named columns, checked against the contract: its kind, its columns, their values. */
function named(p: Point): Record<string, string | number> {
  const kind = p.blobs?.[0] as keyof Kinds;
  const layout = contract.kinds[kind] as Record<string, Column> | undefined;
  expect(layout, `kind ${String(kind)}`).toBeDefined();
  expect(p.indexes).toEqual([kind]);
  const out: Record<string, string | number> = { kind };
  for (const [column, spec] of Object.entries(layout ?? {})) {
    const n = Number(column.replace(/\D+/g, ""));
    const value = column.startsWith("blob") ? p.blobs?.[n - 1] : p.doubles?.[n - 1];
    expect(value, `${kind}.${column} (${spec.name})`).toBeDefined();
    if (spec.values) expect(spec.values, `${kind}.${spec.name}`).toContain(value);
    out[spec.name] = value as string | number;
  }
  // Nothing beyond the contract's columns.
  const blobs = Object.keys(layout ?? {}).filter((c) => c.startsWith("blob")).length;
  const doubles = Object.keys(layout ?? {}).filter((c) => c.startsWith("double")).length;
  expect(p.blobs?.length, `${kind} blobs`).toBe(blobs + 1);
  expect(p.doubles?.length, `${kind} doubles`).toBe(doubles);
  return out;
}

describe("metrics", () => {
  it("a request, a failed login and a rate-limit refusal: one point each, patterns and codes only", async () => {
    const m = recording();
    const ip = "10.9.8.7";
    const email = `metrics.${crypto.randomUUID()}@example.com`;
    const res = await call("/api/v1/auth/login", {
      method: "POST",
      json: { email, password: "Wrong-Password-123!" },
      headers: { "CF-Connecting-IP": ip },
      env: m.env,
    });
    expect(res.status).toBe(401);
    expect(m.of("auth")).toEqual([
      { kind: "auth", action: "login", outcome: "failure", reason: "invalid_credentials", count: 1 },
    ]);
    expect(m.of("request")).toEqual([
      expect.objectContaining({ method: "POST", route: "/api/v1/auth/login", status_class: "4xx", http_status: 401 }),
    ]);
    // Past the per-client login limit: 429s, each a rate_limit point of its rule.
    let limited = 0;
    for (let i = 0; i < 15 && limited === 0; i++) {
      const again = await call("/api/v1/auth/login", {
        method: "POST",
        json: { email, password: "Wrong-Password-123!" },
        headers: { "CF-Connecting-IP": ip },
        env: m.env,
      });
      if (again.status === 429) limited++;
    }
    expect(limited).toBe(1);
    expect(m.of("rate_limit")).toContainEqual({ kind: "rate_limit", rule: "login_ip", key_kind: "ip", count: 1 });
    // A route with an id is counted by its pattern.
    const { tokens } = await seededSession();
    await call("/api/v1/accounts/acc_missing", {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
      env: m.env,
    });
    expect(m.of("request").map((p) => p.route)).toContain("/api/v1/accounts/:id");
    // No personal data anywhere: no address, no id, no token.
    const text = JSON.stringify(m.points);
    for (const secret of [email, ip, tokens.user.id, tokens.access_token, "acc_missing"])
      expect(text).not.toContain(secret);
  });

  it("a sync attempt: one sync point and one point per provider call; a dead letter one of its own", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    const m = recording();
    await attempt(await queuedRun(connection.id, "scheduled"), 1, m.env);
    const [sync] = m.of("sync");
    expect(sync).toMatchObject({
      provider: "sandbox",
      outcome: "succeeded",
      status_class: "2xx",
      trigger: "scheduled",
      attempt: 1,
    });
    expect(Number(sync?.rows_written)).toBeGreaterThan(0);
    const calls = m.of("provider_call");
    // A refresh, the account numbers, the accounts, and each of the 2 accounts' transactions in two
    // one-year windows (730 days of history): bench:scale's throttled run counts on these 7.
    expect(calls.length).toBe(7);
    for (const c of calls) expect(c).toMatchObject({ provider: "sandbox", outcome: "ok", status_class: "2xx" });

    const dlq = recording();
    const message = await queuedRun(connection.id, "scheduled");
    await attempt(
      { ...message, error: { code: "provider_unavailable", message: "x" }, attempts: 5 },
      1,
      dlq.env,
      QUEUES.deadLetters,
    );
    expect(dlq.of("dead_letter")).toEqual([
      { kind: "dead_letter", queue: "sync", source: "consumer", error_code: "provider_unavailable", count: 1 },
    ]);
    expect(JSON.stringify([...m.points, ...dlq.points])).not.toContain(connection.id);
  });
});
