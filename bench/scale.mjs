#!/usr/bin/env node
// `SCALE_USERS=N npm run bench:scale` (default 1,000): Ledgerlink at 1/1000 of its target, on a
// local `wrangler dev` with fresh state. Through the real flows it creates N users (register,
// verify through the dev outbox, log in) with 3 sandbox connections each (POST /connections,
// consent, hand-off, callback), then fires the sync Cron Trigger once and waits until every
// connection has synced through cron → sweeps → queue → consumer → the user's home object.
// While it waits, one user reads their own data (GET /api/v1/accounts) in a loop.
//
// It measures: wall seconds of the sync phase, sync-run messages per second, D1 rows
// written during it (counted by triggers the bench adds to its own local D1 copy: table rows,
// not index entries), rows written in the home objects (the runs' own `rows_written`), and
// p50/p99 of the data read. The last line starts with `scale:`. Knobs: SCALE_CONCURRENCY
// (parallel user setups, default 8); SCALE_PROVIDER_LIMIT=N (the sandbox's outbound budget,
// rule `provider_sandbox`, lowered to N calls a minute with a burst of N/4: issue 23's "show it
// with a low limit"), which also reports how many runs were throttled and whether any connection
// was marked for it.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { d1Local, ROOT, startDevServer } from "../scripts/lib/local.mjs";
import { connectSandbox, session } from "./identity.mjs";

const USERS = Number(process.env.SCALE_USERS ?? 1000);
const CONCURRENCY = Number(process.env.SCALE_CONCURRENCY ?? 8);
const PER_USER = 3;
const PROVIDER_LIMIT = process.env.SCALE_PROVIDER_LIMIT ? Number(process.env.SCALE_PROVIDER_LIMIT) : null;
const persistTo = resolve(ROOT, ".wrangler/bench-scale-state");
rmSync(persistTo, { recursive: true, force: true });

const d1 = (sql) => d1Local(persistTo, sql);

const huge = { burst: 100_000, refill: 100_000, per_seconds: 1 };
const server = await startDevServer({
  persistTo,
  vars: {
    RATE_LIMITS: JSON.stringify(
      Object.fromEntries([
        ...[
          "login_ip",
          "login_email",
          "register_ip",
          "email_request_ip",
          "token_submit_ip",
          "user_read",
          "user_write",
          "connect_provider",
          "refresh_session",
        ].map((k) => [k, huge]),
        ...(PROVIDER_LIMIT
          ? [
              [
                "provider_sandbox",
                { burst: Math.max(1, Math.floor(PROVIDER_LIMIT / 4)), refill: PROVIDER_LIMIT, per_seconds: 60 },
              ],
            ]
          : []),
      ]),
    ),
  },
});
const base = server.url;
const ms = (t0) => Math.round(performance.now() - t0);

/** Counts D1 rows written per table from now on (bench state only; the app never sees these). */
function countD1Writes() {
  const tables = d1(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'",
  )
    .map((r) => r.name)
    .filter((t) => t !== "bench_writes");
  const statements = [
    "CREATE TABLE IF NOT EXISTS bench_writes (n INTEGER NOT NULL)",
    "INSERT INTO bench_writes VALUES (0)",
  ];
  for (const t of tables) {
    for (const op of ["INSERT", "UPDATE", "DELETE"]) {
      statements.push(
        `CREATE TRIGGER IF NOT EXISTS bench_${op.toLowerCase()}_${t} AFTER ${op} ON ${t} BEGIN UPDATE bench_writes SET n = n + 1; END`,
      );
    }
  }
  d1(statements);
}
const d1Writes = () => d1("SELECT n FROM bench_writes")[0]?.n ?? 0;

async function setupUser(i) {
  const s = await session(base);
  const auth = { Authorization: `Bearer ${s.tokens.access_token}`, ...s.ip, "Content-Type": "application/json" };
  const ids = [];
  for (let c = 0; c < PER_USER; c++) ids.push(await connectSandbox(base, auth, { login: `scale-${i}-${c}` }));
  return { auth, ids };
}

const percentile = (xs, p) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null;
};

let result;
try {
  // 1. Users and connections, through the real flows.
  const setupStarted = performance.now();
  const users = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < USERS) {
        const i = next++;
        users[i] = await setupUser(i);
      }
    }),
  );
  const setupMs = ms(setupStarted);
  const connections = users.flatMap((u) => u.ids);
  console.log(`setup: ${USERS} users, ${connections.length} connections in ${(setupMs / 1000).toFixed(1)} s`);

  // 2. One cron tick; every connection syncs; one user reads meanwhile.
  countD1Writes();
  const reader = users[0];
  const reads = [];
  let syncing = true;
  const readLoop = (async () => {
    while (syncing) {
      const t0 = performance.now();
      const res = await fetch(`${base}/api/v1/accounts`, { headers: reader.auth });
      await res.arrayBuffer();
      if (res.ok) reads.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const started = performance.now();
  const tick = await fetch(`${base}/__scheduled?cron=${encodeURIComponent("*/5 * * * *")}`);
  if (!tick.ok) throw new Error(`cron answered ${tick.status}`);
  let synced = 0;
  let ticks = 1;
  let lastTick = performance.now();
  for (;;) {
    synced = d1("SELECT COUNT(*) AS n FROM connections WHERE last_synced_at IS NOT NULL")[0]?.n ?? 0;
    process.stdout.write(`\rsynced ${synced}/${connections.length}`);
    if (synced >= connections.length) break;
    // Under a low outbound limit a run that stays throttled through its attempts is deferred to a
    // later tick (never marked as failing): tick again each minute, as the 5-minute cron would.
    if (PROVIDER_LIMIT && performance.now() - lastTick > 60_000) {
      await fetch(`${base}/__scheduled?cron=${encodeURIComponent("*/5 * * * *")}`);
      ticks++;
      lastTick = performance.now();
    }
    if (performance.now() - started > 30 * 60_000) throw new Error("not every connection synced within 30 minutes");
    await new Promise((r) => setTimeout(r, 2000));
  }
  const wallMs = ms(started);
  syncing = false;
  await readLoop;
  process.stdout.write("\n");

  // 3. What it cost.
  const d1Rows = d1Writes();
  let objectRows = 0;
  let runs = 0;
  let retried = 0;
  let attempts = 0;
  const finished = [];
  for (const u of users) {
    for (const id of u.ids) {
      const { syncs } = await (
        await fetch(`${base}/api/v1/connections/${id}/syncs?limit=10`, { headers: u.auth })
      ).json();
      for (const s of syncs) {
        runs++;
        attempts += s.attempts;
        if (s.attempts > 1) retried++;
        if (s.finished_at) finished.push(Date.parse(s.finished_at));
        objectRows += s.stats?.rows_written ?? 0;
      }
    }
  }
  // The most runs finished in any 60 s, and whether the throttling ever marked a connection.
  finished.sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < finished.length; i++) {
    while (finished[i] - finished[j] >= 60_000) j++;
    peak = Math.max(peak, i - j + 1);
  }
  const marked = d1(
    "SELECT COUNT(*) AS n FROM connections WHERE consecutive_failures > 0 OR status <> 'active' OR last_error_code IS NOT NULL",
  )[0]?.n;
  result = {
    provider_limit_per_min: PROVIDER_LIMIT,
    cron_ticks: ticks,
    runs_retried: retried,
    attempts,
    peak_runs_per_min: peak,
    connections_marked: marked,
    users: USERS,
    connections: connections.length,
    runs,
    wall_s: Math.round(wallMs / 100) / 10,
    // Sync-run messages worked per second (the scheduler's few sweep messages not counted).
    messages_per_s: Math.round((runs / wallMs) * 1000 * 10) / 10,
    d1_rows_written: d1Rows,
    d1_rows_per_sync: Math.round((d1Rows / runs) * 10) / 10,
    object_rows_written: objectRows,
    read_p50_ms: Math.round(percentile(reads, 0.5)),
    read_p99_ms: Math.round(percentile(reads, 0.99)),
    reads: reads.length,
    setup_s: Math.round(setupMs / 100) / 10,
  };
} finally {
  await server.stop();
  rmSync(persistTo, { recursive: true, force: true });
}

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
mkdirSync(resolve(ROOT, "bench/results"), { recursive: true });
writeFileSync(
  resolve(ROOT, `bench/results/scale-${USERS}-${stamp}.json`),
  `${JSON.stringify({ at: new Date().toISOString(), node: process.version, ...result }, null, 2)}\n`,
);
console.log(
  `scale: users=${result.users} connections=${result.connections}${PROVIDER_LIMIT ? ` provider_limit=${PROVIDER_LIMIT}/min cron_ticks=${result.cron_ticks} runs_retried=${result.runs_retried} attempts=${result.attempts} peak_runs_per_min=${result.peak_runs_per_min} connections_marked=${result.connections_marked}` : ""} wall_s=${result.wall_s} messages_per_s=${result.messages_per_s} d1_rows_written=${result.d1_rows_written} (${result.d1_rows_per_sync}/sync) object_rows_written=${result.object_rows_written} read_p50_ms=${result.read_p50_ms} read_p99_ms=${result.read_p99_ms}`,
);
