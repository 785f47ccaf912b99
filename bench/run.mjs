#!/usr/bin/env node
// `npm run bench`: starts the API under `wrangler dev` and, beside it, a bare Hono Worker under
// the same wrangler (bench/bare/); warms each scenario up, drives it with autocannon at fixed
// concurrency for a fixed time, prints requests/s, p50 and p99 with the throughput ratio to the
// bare Worker measured in the same slices of time, and to the one-hop floor (bench/bare/hop.ts),
// and writes the results to bench/results/.
// Knobs: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 10), BENCH_ONLY (substrings, comma-separated).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import autocannon from "autocannon";
import { ROOT, startBareWorker, startDevServer } from "../scripts/lib/local.mjs";
import { scenarios } from "./scenarios.mjs";

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const only = process.env.BENCH_ONLY?.split(",").filter(Boolean);

const run = (opts) =>
  new Promise((res, rej) => {
    autocannon(opts, (err, result) => (err ? rej(err) : res(result)));
  });

const persistTo = resolve(ROOT, ".wrangler/bench-state");
rmSync(persistTo, { recursive: true, force: true });
// Per-user and per-session limits would turn a load test into a 429 test; raise them (the home and
// the Limiter still do the full bucket work). login_ip keeps its default for the at-limit scenario.
const huge = { burst: 100_000, refill: 100_000, per_seconds: 1 };
const RATE_LIMITS = JSON.stringify({ user_read: huge, user_write: huge, refresh_session: huge, login_email: huge });
const server = await startDevServer({
  persistTo,
  vars: { RATE_LIMITS, ...(process.env.BENCH_LOG_LEVEL ? { LOG_LEVEL: process.env.BENCH_LOG_LEVEL } : {}) },
});
const bare = await startBareWorker();
const hop = await startBareWorker({ config: "bench/bare/wrangler.hop.toml" });
const rows = [];
// The machine is shared and its speed drifts by tens of percent within seconds, so a scenario and
// the bare Worker take turns in short slices (SLICE_S each, `duration` in all for each side) and
// the ratio is of their totals: drift lands on both sides alike. Latencies are the medians of the
// scenario's slices.
const SLICE_S = 2;
const slices = Math.max(1, Math.round(duration / SLICE_S));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  for (const s of scenarios) {
    if (only && !s.bare && !only.some((o) => s.name.includes(o))) continue;
    const conns = s.connections ?? connections;
    const target = s.bare === "hop" ? hop.url : s.bare ? bare.url : server.url;
    const { path, ...req } = await s.setup(target, conns);
    // Scenarios with `serverTiming` collect that Server-Timing metric from every response.
    const timings = [];
    if (s.serverTiming) {
      const metric = new RegExp(`${s.serverTiming};dur=([\\d.]+)`);
      req.requests = [
        {
          onResponse: (_status, _body, _ctx, headers) => {
            // autocannon keeps the raw header-name case.
            const key = Object.keys(headers ?? {}).find((k) => k.toLowerCase() === "server-timing");
            const m = metric.exec(key ? String(headers[key]) : "");
            if (m) timings.push(Number(m[1]));
          },
        },
      ];
    }
    // Non-2xx answers (e.g. a rate-limited scenario) are counted, not treated as failures.
    const opts = { url: target + path, connections: conns, ...req };
    await run({ ...opts, duration: 2 }); // warm-up: isolates, D1 pages, DO instances
    timings.length = 0;
    // A bare slice is shorter than the refresh-token reuse grace (10 s), so a rotation chain cut
    // at a slice's end (its answer dropped) is still honoured when the next slice presents it.
    const parts = [];
    let bareTotal = 0;
    for (let i = 0; i < slices; i++) {
      if (s.bare !== true)
        bareTotal += (await run({ url: `${bare.url}/`, connections: conns, duration: SLICE_S })).requests.total;
      parts.push(await run({ ...opts, duration: SLICE_S }));
    }
    const sum = (f) => parts.reduce((n, p) => n + f(p), 0);
    const seconds = slices * SLICE_S;
    const r = {
      requests: { average: sum((p) => p.requests.total) / seconds, total: sum((p) => p.requests.total) },
      latency: { p50: median(parts.map((p) => p.latency.p50)), p99: median(parts.map((p) => p.latency.p99)) },
      non2xx: sum((p) => p.non2xx),
      errors: sum((p) => p.errors),
      timeouts: sum((p) => p.timeouts),
    };
    const bareNow = s.bare === true ? null : bareTotal / seconds;
    timings.sort((a, b) => a - b);
    const pct = (p) => (timings.length ? timings[Math.min(timings.length - 1, Math.floor(p * timings.length))] : null);
    rows.push({
      scenario: s.name,
      connections: conns,
      bare: s.bare ?? false,
      requests_per_sec: Math.round(r.requests.average),
      bare_same_slices_per_sec: bareNow === null ? null : Math.round(bareNow),
      ratio_to_bare: bareNow === null ? 1 : Math.round((r.requests.average / bareNow) * 100) / 100,
      p50_ms: r.latency.p50,
      p99_ms: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      total: r.requests.total,
      ...(s.serverTiming ? { [`${s.serverTiming}_p50_ms`]: pct(0.5), [`${s.serverTiming}_p99_ms`]: pct(0.99) } : {}),
    });
  }
} finally {
  await Promise.all([server.stop(), bare.stop(), hop.stop()]);
}

// Against the one-hop floor: how much of what one call to a Durable Object allows is left.
const floor = rows.find((r) => r.bare === "hop");
for (const r of rows) {
  r.ratio_to_one_hop = floor ? Math.round((r.ratio_to_bare / floor.ratio_to_bare) * 100) / 100 : null;
}

const header =
  "| scenario | conns | req/s | p50 ms | p99 ms | bare Worker in the same slices, req/s | ratio to bare | ratio to the one-hop floor | non-2xx | errors |";
const lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"];
for (const r of rows) {
  lines.push(
    `| ${r.scenario} | ${r.connections} | ${r.requests_per_sec} | ${r.p50_ms} | ${r.p99_ms} | ${r.bare_same_slices_per_sec ?? "–"} | ${r.ratio_to_bare} | ${r.ratio_to_one_hop} | ${r.non2xx} | ${r.errors} |`,
  );
}
for (const r of rows) {
  if (r.home_p50_ms !== undefined)
    lines.push(
      `\nTime of the call to the user's home inside "${r.scenario}" (Server-Timing home;dur): p50 ${r.home_p50_ms} ms, p99 ${r.home_p99_ms} ms`,
    );
}
const table = lines.join("\n");
console.log(`\n${table}\n`);

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const meta = { at: new Date().toISOString(), duration_s: duration, connections, node: process.version };
mkdirSync(resolve(ROOT, "bench/results"), { recursive: true });
writeFileSync(resolve(ROOT, `bench/results/${stamp}.json`), `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
writeFileSync(
  resolve(ROOT, `bench/results/${stamp}.md`),
  `# Bench ${meta.at}\n\n${slices * SLICE_S}s per scenario (slices of ${SLICE_S}s alternating with the bare Worker), ${connections} connections, local \`wrangler dev\`, ${meta.node}.\n\n${table}\n`,
);
console.log(`Results written to bench/results/${stamp}.{json,md}`);
