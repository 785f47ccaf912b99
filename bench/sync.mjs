#!/usr/bin/env node
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { d1Local, ROOT, startDevServer } from "../scripts/lib/local.mjs";
// `npm run bench:sync`: the cost of syncing each provider's largest sandbox login on a local
// `wrangler dev`, through the real path (manual sync → Queue → consumer → the user's home
// object, which plans and applies the snapshot in one SQLite transaction):
//   - `sandbox` (Schwab) `large`: 10,080 transactions (10,000 in its margin account, 80 in cash);
//   - `sandbox_gocardless`, `sandbox_simplefin`, `sandbox_alpaca`: a default login (their
//     sandboxes have no larger one), each as much history as the sandbox gives.
// For each, over fresh logins:
//   1. first sync: wall time (request → run succeeded, seen by polling) and the run's own
//      duration, with the home's count of rows written (SqlStorageCursor.rowsWritten of the
//      ledger statements, index entries included);
//   2. re-sync of the same data (incremental window: last success − overlap);
//   3. re-sync over the whole history (the connection's watermark cleared in D1 first).
// Rows written by 2 and 3 must be ~0. Each attempt's calls to the user's home and D1 round trips
// are read from the Worker's `sync attempt cost` log line (src/services/sync/meter.ts).
// Knobs: BENCH_SYNC_RUNS (repetitions, default 3), BENCH_SYNC_PROVIDERS (comma list).
import { waitForToken } from "../scripts/lib/outbox.mjs";

const RUNS = Number(process.env.BENCH_SYNC_RUNS ?? 3);
const PROVIDERS = (process.env.BENCH_SYNC_PROVIDERS ?? "sandbox,sandbox_gocardless,sandbox_simplefin,sandbox_alpaca")
  .split(",")
  .map((p) => p.trim())
  .filter(Boolean);
const persistTo = resolve(ROOT, ".wrangler/bench-sync-state");
rmSync(persistTo, { recursive: true, force: true });

/** Each run's `sync attempt cost` line, by run id (the last attempt's, should there be retries). */
const costs = new Map();
let pending = "";
function readLogs(chunk) {
  pending += chunk;
  const lines = pending.split("\n");
  pending = lines.pop() ?? "";
  for (const line of lines) {
    const at = line.indexOf('{"');
    if (at < 0 || !line.includes("sync attempt cost")) continue;
    try {
      const entry = JSON.parse(line.slice(at));
      if (entry.msg === "sync attempt cost") costs.set(entry.run_id, entry);
    } catch {}
  }
}

const huge = { burst: 100_000, refill: 100_000, per_seconds: 1 };
const server = await startDevServer({
  persistTo,
  onOutput: readLogs,
  // Manual syncs back to back (the 5-minute spacing is a product rule, not a cost), no limits;
  // info logs for the attempts' call counts.
  vars: {
    LOG_LEVEL: "info",
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

/** Through a redirect kind of link (OAuth, bank consent): the consent page sends the browser back. */
async function connectByRedirect(client, body) {
  const res = await client.post("/api/v1/connections", body);
  const started = await res.json();
  if (!started.authorization_url) throw new Error(`connect answered ${res.status}: ${JSON.stringify(started)}`);
  const consent = await fetch(started.authorization_url, { redirect: "manual" });
  const handOff = await (
    await fetch(consent.headers.get("Location"), { headers: { Accept: "application/json" } })
  ).json();
  const done = await client.post("/api/v1/connections/callback", handOff);
  if (done.status !== 200) throw new Error(`callback answered ${done.status}`);
  return started.connection.id;
}

/** Connects `provider`'s largest sandbox login (a fresh seed each time). */
async function connect(client, provider, login) {
  if (provider === "sandbox") return connectByRedirect(client, { provider, scenario: "large", login });
  if (provider === "sandbox_alpaca") return connectByRedirect(client, { provider, login });
  if (provider === "sandbox_gocardless") {
    return connectByRedirect(client, { provider, institution_id: "SANDBOXFINANCE_SFIN0000", login });
  }
  if (provider === "sandbox_simplefin") {
    const { setup_token } = await (await client.post("/api/v1/dev/sandbox/simplefin/setup-token", { login })).json();
    const res = await client.post("/api/v1/connections", { provider, setup_token });
    if (res.status !== 201 && res.status !== 200) throw new Error(`connect answered ${res.status}`);
    return (await res.json()).connection.id;
  }
  throw new Error(`no sandbox login for ${provider}`);
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
      const wallMs = performance.now() - t0;
      // The consumer logs the attempt's cost right after it finishes the run.
      for (let i = 0; i < 100 && !costs.has(run.id); i++) await new Promise((r) => setTimeout(r, 20));
      return { run, wallMs, cost: costs.get(run.id) };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const rows = [];
try {
  const client = api(await userToken());
  for (const provider of PROVIDERS) {
    for (let i = 0; i < RUNS; i++) {
      const id = await connect(client, provider, `bench-${provider}-${i}-${Date.now().toString(36)}`);
      const first = await timedSync(client, id);
      const again = await timedSync(client, id);
      d1(`UPDATE connections SET last_synced_at = NULL WHERE id = '${id}'`);
      const full = await timedSync(client, id);
      for (const [kind, { run, wallMs, cost }] of [
        ["first sync", first],
        ["re-sync (incremental window)", again],
        ["re-sync (whole history)", full],
      ]) {
        rows.push({
          provider,
          kind,
          wall_ms: Math.round(wallMs),
          run_ms: run.stats.duration_ms,
          accounts: run.stats.accounts_added + run.stats.accounts_updated,
          fetched: run.stats.transactions_fetched,
          added: run.stats.transactions_added,
          modified: run.stats.transactions_modified,
          rows_written: run.stats.rows_written,
          home_calls: cost?.home_calls ?? null,
          d1_round_trips: cost?.d1_round_trips ?? null,
        });
      }
    }
  }
} finally {
  await server.stop();
  rmSync(persistTo, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => {
  const known = xs.filter((x) => x !== null);
  if (known.length === 0) return "?";
  const lo = Math.min(...known);
  const hi = Math.max(...known);
  return lo === hi ? String(lo) : `${lo}–${hi}`;
};
const lines = [
  "| provider (login) | run | wall time (median) | run duration (median) | transactions fetched | added | modified | rows written (home SQLite) | home calls | D1 round trips |",
  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
];
for (const provider of PROVIDERS) {
  for (const kind of [...new Set(rows.map((r) => r.kind))]) {
    const of = rows.filter((r) => r.provider === provider && r.kind === kind);
    if (of.length === 0) continue;
    const one = of[0];
    const login = provider === "sandbox" ? "sandbox (`large`)" : `${provider} (default)`;
    lines.push(
      `| ${login} | ${kind} | ${median(of.map((r) => r.wall_ms))} ms | ${median(of.map((r) => r.run_ms))} ms | ${one.fetched} | ${one.added} | ${one.modified} | ${median(of.map((r) => r.rows_written))} | ${spread(of.map((r) => r.home_calls))} | ${spread(of.map((r) => r.d1_round_trips))} |`,
    );
  }
}
const table = lines.join("\n");
const note = `${RUNS} repetitions per provider; local wrangler dev, Node ${process.version}. Home calls and D1 round trips are per attempt (each run here took one), the D1 figure including the credentials' own reads.`;
console.log(`\n${table}\n\n${note}`);

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
mkdirSync(resolve(ROOT, "bench/results"), { recursive: true });
writeFileSync(
  resolve(ROOT, `bench/results/sync-${stamp}.json`),
  `${JSON.stringify({ at: new Date().toISOString(), runs: RUNS, node: process.version, rows }, null, 2)}\n`,
);
writeFileSync(
  resolve(ROOT, `bench/results/sync-${stamp}.md`),
  `# Sync bench ${new Date().toISOString()}\n\n${note}\n\n${table}\n`,
);
console.log(`Results written to bench/results/sync-${stamp}.{json,md}`);
