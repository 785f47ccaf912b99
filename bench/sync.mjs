#!/usr/bin/env node
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { d1Local, ROOT, startDevServer } from "../scripts/lib/local.mjs";
// `npm run bench:sync`: the cost of syncing the sandbox's `large` login (10,080 transactions:
// 10,000 in its margin account, 80 in its cash account) on a local `wrangler dev`, through the
// real path (manual sync → Queue → consumer → the user's home object, which plans and applies
// the snapshot in one SQLite transaction):
//   1. first sync: wall time (request → run succeeded, seen by polling) and the run's own
//      duration, with the home's count of rows written (SqlStorageCursor.rowsWritten of the
//      ledger statements, index entries included);
//   2. re-sync of the same data (incremental window: last success − overlap);
//   3. re-sync over the whole history (the connection's watermark cleared in D1 first).
// Rows written by 2 and 3 must be ~0. Knobs: BENCH_SYNC_RUNS (repetitions, default 3).
import { waitForToken } from "../scripts/lib/outbox.mjs";

const RUNS = Number(process.env.BENCH_SYNC_RUNS ?? 3);
const persistTo = resolve(ROOT, ".wrangler/bench-sync-state");
rmSync(persistTo, { recursive: true, force: true });

const huge = { burst: 100_000, refill: 100_000, per_seconds: 1 };
const server = await startDevServer({
  persistTo,
  // Manual syncs back to back (the 5-minute spacing is a product rule, not a cost), no limits.
  vars: {
    SYNC_MANUAL_MIN_INTERVAL_SECONDS: "0",
    RATE_LIMITS: JSON.stringify({ user_read: huge, user_write: huge, connect_provider: huge, login_ip: huge }),
  },
});
const base = server.url;

const d1 = (sql) => d1Local(persistTo, sql);

async function userToken() {
  const headers = { "Content-Type": "application/json", "CF-Connecting-IP": "10.7.7.7" };
  const post = (path, body) => fetch(base + path, { method: "POST", headers, body: JSON.stringify(body) });
  const email = `bench.sync.${Date.now().toString(36)}@example.com`;
  const password = "Tr1cky-Bison-42!";
  await post("/api/v1/auth/register", { email, password, name: "Bench" });
  await post("/api/v1/auth/verify-email", { token: await waitForToken(base, email, /confirm/i) });
  return (await (await post("/api/v1/auth/login", { email, password })).json()).access_token;
}

function api(token) {
  const headers = {
    "Content-Type": "application/json",
    Authorization: `Bearer ${token}`,
    "CF-Connecting-IP": "10.7.7.7",
  };
  return {
    get: async (path) => (await fetch(base + path, { headers })).json(),
    post: (path, body) => fetch(base + path, { method: "POST", headers, body: body && JSON.stringify(body) }),
  };
}

/** Connects a `large` login (a fresh seed each time) through the sandbox's redirect. */
async function connectLarge(client, login) {
  const started = await (
    await client.post("/api/v1/connections", { provider: "sandbox", scenario: "large", login })
  ).json();
  const consent = await fetch(started.authorization_url, { redirect: "manual" });
  const handOff = await (
    await fetch(consent.headers.get("Location"), { headers: { Accept: "application/json" } })
  ).json();
  const done = await client.post("/api/v1/connections/callback", handOff);
  if (done.status !== 200) throw new Error(`callback answered ${done.status}`);
  return started.connection.id;
}

/** Requests a manual sync and polls (every 20 ms) until that run finishes; returns the run and wall time. */
async function timedSync(client, id) {
  const t0 = performance.now();
  const res = await client.post(`/api/v1/connections/${id}/sync`);
  if (res.status !== 202) throw new Error(`sync answered ${res.status}: ${await res.text()}`);
  const { sync } = await res.json();
  for (;;) {
    const { syncs } = await client.get(`/api/v1/connections/${id}/syncs?limit=5`);
    const run = syncs.find((s) => s.id === sync.id);
    if (run && ["succeeded", "failed", "dead_lettered", "skipped"].includes(run.status)) {
      if (run.status !== "succeeded") throw new Error(`run ${run.status}: ${JSON.stringify(run.error)}`);
      return { run, wallMs: performance.now() - t0 };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const rows = [];
try {
  const client = api(await userToken());
  for (let i = 0; i < RUNS; i++) {
    const id = await connectLarge(client, `bench-large-${i}`);
    const first = await timedSync(client, id);
    const again = await timedSync(client, id);
    d1(`UPDATE connections SET last_synced_at = NULL WHERE id = '${id}'`);
    const full = await timedSync(client, id);
    for (const [kind, { run, wallMs }] of [
      ["first sync", first],
      ["re-sync (incremental window)", again],
      ["re-sync (whole history)", full],
    ]) {
      rows.push({
        kind,
        wall_ms: Math.round(wallMs),
        run_ms: run.stats.duration_ms,
        fetched: run.stats.transactions_fetched,
        added: run.stats.transactions_added,
        modified: run.stats.transactions_modified,
        rows_written: run.stats.rows_written,
      });
    }
  }
} finally {
  await server.stop();
  rmSync(persistTo, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kinds = [...new Set(rows.map((r) => r.kind))];
const lines = [
  "| run | wall time (median) | run duration (median) | transactions fetched | added | modified | rows written (home SQLite) |",
  "|---|---:|---:|---:|---:|---:|---:|",
];
for (const kind of kinds) {
  const of = rows.filter((r) => r.kind === kind);
  const one = of[0];
  lines.push(
    `| ${kind} | ${median(of.map((r) => r.wall_ms))} ms | ${median(of.map((r) => r.run_ms))} ms | ${one.fetched} | ${one.added} | ${one.modified} | ${median(of.map((r) => r.rows_written))} |`,
  );
}
const table = lines.join("\n");
console.log(`\n${table}\n\n${RUNS} repetitions; local wrangler dev, Node ${process.version}.`);

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
mkdirSync(resolve(ROOT, "bench/results"), { recursive: true });
writeFileSync(
  resolve(ROOT, `bench/results/sync-${stamp}.json`),
  `${JSON.stringify({ at: new Date().toISOString(), runs: RUNS, node: process.version, rows }, null, 2)}\n`,
);
writeFileSync(
  resolve(ROOT, `bench/results/sync-${stamp}.md`),
  `# Sync bench ${new Date().toISOString()}\n\n\`large\` sandbox login (10,080 transactions), ${RUNS} repetitions, local \`wrangler dev\`, ${process.version}.\n\n${table}\n`,
);
console.log(`Results written to bench/results/sync-${stamp}.{json,md}`);
