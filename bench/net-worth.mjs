#!/usr/bin/env node
// `npm run bench:net-worth`: the cost of GET /api/v1/net-worth (issue 22: "answered from the home
// in one call, for 20 accounts over 2 years in at most 25 ms of home time") on a local
// `wrangler dev` with a fresh state.
//
// 1. One user, 20 real accounts, made through the real flows and one real sync each: 5 sandbox
//    GoCardless logins (an EUR current account and a GBP card each), 4 sandbox SimpleFIN logins
//    (a USD checking account and a USD card each) and 2 sandbox Alpaca logins (a USD brokerage
//    account each). Each sync writes today's balance point.
// 2. The server is stopped and the 729 days before today are written into that user's home (its
//    Durable Object's SQLite file under the state directory), one point per account per day, in
//    the columns and the form the sync writes (exact decimal text, the provider's sign, `as_of`
//    in epoch ms), as a random walk back from each account's synced balance. No route writes
//    history other than a sync, and the sandbox clock cannot stand in for it: a point's day is
//    its sync's day, so 730 days would take 730 rounds of syncs in simulated time ahead of today.
//    The same state directory is then served again, and the API is asked to show the seed: every
//    account answers 730 points, every currency's daily series 730 points, none carried forward.
// 3. GET /api/v1/net-worth?from=<729 days ago>&to=<today>&interval=day|week|month, and, as the
//    floor of one call to the home, GET /api/v1/auth/me: warm-up, then N rounds, one request at a
//    time, the scenarios taking turns within each round. For each: the `Server-Timing: home;dur=`
//    the Worker measures around its one call to the user's home (src/http/auth.ts), and the whole
//    request as the client sees it (until the body is read), as p50/p95/max.
//
// Knobs: BENCH_NET_WORTH_RUNS (rounds, default 200), BENCH_NET_WORTH_WARMUP (default 20).
// Needs Node 22 (node:sqlite); `npm run` uses the project's own Node (the `node` dev dependency).
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { ROOT, startDevServer } from "../scripts/lib/local.mjs";
import { waitForToken } from "../scripts/lib/outbox.mjs";

const RUNS = Number(process.env.BENCH_NET_WORTH_RUNS ?? 200);
const WARMUP = Number(process.env.BENCH_NET_WORTH_WARMUP ?? 20);
const DAYS = 730;
const ACCOUNTS = 20;
const DAY_MS = 86_400_000;
const IP = "10.8.8.8";
const PASSWORD = "Tr1cky-Bison-42!";

const { DatabaseSync } = await import("node:sqlite").catch(() => {
  throw new Error(`node:sqlite is missing in Node ${process.version}: run it with Node 22 (npm run bench:net-worth)`);
});

const persistTo = resolve(ROOT, ".wrangler/bench-net-worth-state");
rmSync(persistTo, { recursive: true, force: true });
// Setup makes 11 connections and their syncs at once: no limits in the way, no manual-sync spacing.
const huge = { burst: 100_000, refill: 100_000, per_seconds: 1 };
const vars = {
  SYNC_MANUAL_MIN_INTERVAL_SECONDS: "0",
  RATE_LIMITS: JSON.stringify({
    user_read: huge,
    user_write: huge,
    connect_provider: huge,
    login_ip: huge,
    login_email: huge,
  }),
};
// The same settings (secrets) for both servers over the one state directory.
const envFile = resolve(persistTo, "..", `dev-server-${process.pid}.env`);

const load = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(", ")} on ${cpus().length} cores`;
const today = new Date().toISOString().slice(0, 10);
const dayBefore = (day, n) => new Date(Date.parse(`${day}T00:00:00Z`) - n * DAY_MS).toISOString().slice(0, 10);
const from = dayBefore(today, DAYS - 1);

function api(base, token) {
  const headers = { "Content-Type": "application/json", "CF-Connecting-IP": IP };
  if (token) headers.Authorization = `Bearer ${token}`;
  const call = async (method, path, body, expected) => {
    const res = await fetch(path.startsWith("http") ? path : base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: "manual",
    });
    if (expected !== null && res.status !== expected) {
      throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
    }
    return res;
  };
  return {
    get: async (path) => (await call("GET", path, undefined, 200)).json(),
    post: async (path, body, expected = 200) => {
      const res = await call("POST", path, body, expected);
      return res.status === 204 ? null : res.json();
    },
    raw: call,
  };
}

async function login(base, email) {
  return (await api(base).post("/api/v1/auth/login", { email, password: PASSWORD })).access_token;
}

async function newUser(base) {
  const email = `bench.net-worth.${Date.now().toString(36)}@example.com`;
  const anon = api(base);
  await anon.post("/api/v1/auth/register", { email, password: PASSWORD, name: "Bench" }, 202);
  await anon.post("/api/v1/auth/verify-email", { token: await waitForToken(base, email, /confirm/i) }, null);
  return email;
}

/** A redirect link (GoCardless, Alpaca): start, the sandbox's consent, the hand-off, the callback. */
async function connectRedirect(client, body) {
  const started = await client.post("/api/v1/connections", body, 201);
  const consent = await client.raw("GET", started.authorization_url, undefined, 302);
  const handOff = await (
    await fetch(consent.headers.get("Location"), { headers: { Accept: "application/json" } })
  ).json();
  await client.post("/api/v1/connections/callback", handOff);
  return started.connection.id;
}

/** A SimpleFIN link: a setup token from the sandbox bridge, claimed at once. */
async function connectSimpleFin(client, login) {
  const { setup_token } = await client.post("/api/v1/dev/sandbox/simplefin/setup-token", { login });
  return (await client.post("/api/v1/connections", { provider: "sandbox_simplefin", setup_token }, 201)).connection.id;
}

async function syncAndWait(client, id) {
  const { sync } = await client.post(`/api/v1/connections/${id}/sync`, undefined, 202);
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const { syncs } = await client.get(`/api/v1/connections/${id}/syncs?limit=5`);
    const run = syncs.find((s) => s.id === sync.id);
    if (run?.status === "succeeded") return;
    if (run && ["failed", "dead_lettered", "skipped"].includes(run.status)) {
      throw new Error(`sync of ${id} ${run.status}: ${JSON.stringify(run.error)}`);
    }
  }
}

/** A small deterministic generator (mulberry32), so every run seeds the same walks. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const toCents = (text) => {
  const [whole, frac = ""] = text.replace("-", "").split(".");
  const cents = Number(whole) * 100 + Number(frac.padEnd(2, "0").slice(0, 2));
  return text.startsWith("-") ? -cents : cents;
};
const centsText = (cents) =>
  `${cents < 0 ? "-" : ""}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, "0")}`;

/** The SQLite file of the home holding these accounts (the state directory's Durable Objects). */
function homeFile(accountIds) {
  const dir = resolve(persistTo, "v3/do/ledgerlink-Home");
  const files = readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  for (const f of files) {
    const db = new DatabaseSync(resolve(dir, f), { readOnly: true });
    try {
      const has = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'balance_history'").get();
      if (!has) continue;
      const marks = accountIds.map(() => "?").join(",");
      const { n } = db.prepare(`SELECT count(*) AS n FROM accounts WHERE id IN (${marks})`).get(...accountIds);
      if (n === accountIds.length) return resolve(dir, f);
    } finally {
      db.close();
    }
  }
  throw new Error(`no home in ${dir} holds the ${accountIds.length} accounts`);
}

/**
 * Writes the days before today for every account: a random walk back from the synced point, in
 * the form the sync writes. Returns the rows written.
 */
function seedHistory(file) {
  const db = new DatabaseSync(file);
  try {
    const synced = db.prepare("SELECT * FROM balance_history ORDER BY account_id").all();
    if (synced.length !== ACCOUNTS || synced.some((p) => p.day !== today)) {
      throw new Error(`expected one point today per account, found ${JSON.stringify(synced.map((p) => p.day))}`);
    }
    const insert = db.prepare(
      "INSERT INTO balance_history (account_id, day, current, available, cash, as_of) VALUES (?, ?, ?, ?, ?, ?)",
    );
    let written = 0;
    db.exec("BEGIN");
    for (const [i, p] of synced.entries()) {
      const random = prng(i + 1);
      const walk = (text) => (text === null ? null : { cents: toCents(text) });
      const current = walk(p.current);
      const available = walk(p.available);
      const cash = walk(p.cash);
      for (let back = 1; back < DAYS; back++) {
        // A day's move, undone going back: between −150.00 and +150.00.
        const move = Math.round((random() - 0.5) * 30_000);
        for (const w of [current, available, cash]) if (w) w.cents -= move;
        const day = dayBefore(today, back);
        const asOf = Date.parse(`${day}T00:00:00Z`) + Math.floor(random() * DAY_MS);
        const text = (w) => (w ? centsText(w.cents) : null);
        insert.run(p.account_id, day, text(current), text(available), text(cash), asOf);
        written++;
      }
    }
    db.exec("COMMIT");
    return written;
  } finally {
    db.close();
  }
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
};
const tenth = (x) => Math.round(x * 10) / 10;
const stats = (xs) => ({ p50: tenth(pct(xs, 0.5)), p95: tenth(pct(xs, 0.95)), max: tenth(Math.max(...xs)) });
const ms = (x) => x.toFixed(1);

let server;
const rows = [];
const loads = { before_setup: load() };
let seeded = 0;
try {
  // 1. The user and 20 synced accounts.
  server = await startDevServer({ persistTo, vars });
  const email = await newUser(server.url);
  let client = api(server.url, await login(server.url, email));
  const ids = [];
  for (let i = 0; i < 5; i++) {
    ids.push(
      await connectRedirect(client, {
        provider: "sandbox_gocardless",
        institution_id: "SANDBOXFINANCE_SFIN0000",
        login: `bench-nw-gc-${i}`,
      }),
    );
  }
  for (let i = 0; i < 4; i++) ids.push(await connectSimpleFin(client, `bench-nw-sf-${i}`));
  for (let i = 0; i < 2; i++)
    ids.push(await connectRedirect(client, { provider: "sandbox_alpaca", login: `bench-nw-al-${i}` }));
  await Promise.all(ids.map((id) => syncAndWait(client, id)));
  const { accounts } = await client.get("/api/v1/accounts");
  if (accounts.length !== ACCOUNTS) throw new Error(`expected ${ACCOUNTS} accounts, got ${accounts.length}`);

  // 2. The 729 days before today, written while the server is stopped; then served again.
  await server.stop();
  server = undefined;
  seeded = seedHistory(homeFile(accounts.map((a) => a.id)));
  server = await startDevServer({ persistTo, vars, envFile });
  client = api(server.url, await login(server.url, email));
  for (const a of accounts) {
    const { balances } = await client.get(`/api/v1/accounts/${a.id}/balances?limit=1000`);
    if (balances.length !== DAYS || balances[0].date !== from || balances.at(-1).date !== today) {
      throw new Error(`account ${a.id} answers ${balances.length} points, not ${DAYS} from ${from} to ${today}`);
    }
  }
  const currencies = [...new Set(accounts.map((a) => a.currency))].sort();
  const perCurrency = Object.fromEntries(currencies.map((c) => [c, accounts.filter((a) => a.currency === c).length]));
  const daily = await client.get(`/api/v1/net-worth?from=${from}&to=${today}&interval=day`);
  for (const c of daily.currencies) {
    const ok =
      c.points.length === DAYS && c.points.every((p) => p.accounts === perCurrency[c.currency] && !p.carried_forward);
    if (!ok) throw new Error(`the ${c.currency} series does not show the seed`);
  }
  if (daily.currencies.map((c) => c.currency).join() !== currencies.join()) throw new Error("currencies differ");

  // 3. The measurement: one request at a time, the scenarios taking turns.
  const scenarios = [
    ...["day", "week", "month"].map((interval) => ({
      name: `GET /api/v1/net-worth?from=${from}&to=${today}&interval=${interval}`,
      path: `/api/v1/net-worth?from=${from}&to=${today}&interval=${interval}`,
    })),
    { name: "GET /api/v1/auth/me (the floor: one call to the same home)", path: "/api/v1/auth/me" },
  ];
  for (const s of scenarios) Object.assign(s, { home: [], total: [], bytes: 0, points: null });
  const once = async (s) => {
    const t0 = performance.now();
    const res = await client.raw("GET", s.path, undefined, 200);
    const text = await res.text();
    const total = performance.now() - t0;
    const home = /(?:^|,)\s*home;dur=([\d.]+)/.exec(res.headers.get("Server-Timing") ?? "")?.[1];
    if (home === undefined) throw new Error(`${s.path}: no home;dur in Server-Timing`);
    s.bytes = text.length;
    if (s.points === null && s.path.includes("net-worth")) {
      s.points = JSON.parse(text)
        .currencies.map((c) => `${c.currency} ${c.points.length}`)
        .join(", ");
    }
    return { home: Number(home), total };
  };
  for (let i = 0; i < WARMUP; i++) for (const s of scenarios) await once(s);
  loads.before_measuring = load();
  for (let i = 0; i < RUNS; i++) {
    for (const s of scenarios) {
      const t = await once(s);
      s.home.push(t.home);
      s.total.push(t.total);
    }
  }
  loads.after_measuring = load();
  for (const s of scenarios) {
    rows.push({
      scenario: s.name,
      points_per_currency: s.points,
      response_bytes: s.bytes,
      home_ms: stats(s.home),
      request_ms: stats(s.total),
    });
  }
} finally {
  await server?.stop();
  rmSync(persistTo, { recursive: true, force: true });
  if (existsSync(envFile)) rmSync(envFile);
}

const lines = [
  "| request | points per series | response | home p50 | home p95 | home max | request p50 | request p95 | request max |",
  "|---|---|---:|---:|---:|---:|---:|---:|---:|",
];
for (const r of rows) {
  lines.push(
    `| ${r.scenario} | ${r.points_per_currency ?? "–"} | ${(r.response_bytes / 1024).toFixed(1)} KiB | ${ms(r.home_ms.p50)} | ${ms(r.home_ms.p95)} | ${ms(r.home_ms.max)} | ${ms(r.request_ms.p50)} | ${ms(r.request_ms.p95)} | ${ms(r.request_ms.max)} |`,
  );
}
const table = lines.join("\n");
const setup = `${ACCOUNTS} accounts (5 GoCardless logins: EUR current account + GBP card; 4 SimpleFIN: USD checking + USD card; 2 Alpaca: USD brokerage), one balance point per account per day for ${DAYS} days (${from} to ${today}: ${seeded} seeded + ${ACCOUNTS} synced today). ${RUNS} rounds after ${WARMUP} of warm-up, one request at a time; times in ms.`;
const loadNote = `Load: ${loads.before_setup} before setup, ${loads.before_measuring} before measuring, ${loads.after_measuring} after.`;
console.log(`\n${table}\n\n${setup}\n${loadNote}\nlocal wrangler dev, Node ${process.version}.`);

const at = new Date().toISOString();
const stamp = at.replace(/[:.]/g, "-");
mkdirSync(resolve(ROOT, "bench/results"), { recursive: true });
writeFileSync(
  resolve(ROOT, `bench/results/net-worth-${stamp}.json`),
  `${JSON.stringify({ at, runs: RUNS, warmup: WARMUP, accounts: ACCOUNTS, days: DAYS, from, to: today, node: process.version, cores: cpus().length, loads, rows }, null, 2)}\n`,
);
writeFileSync(
  resolve(ROOT, `bench/results/net-worth-${stamp}.md`),
  `# Net worth bench ${at}\n\n${setup}\n\n${table}\n\n${loadNote}\nLocal \`wrangler dev\`, ${process.version}. "home" is \`Server-Timing: home;dur=\` (the Worker's one call to the user's home, src/http/auth.ts); "request" is the whole request as the client sees it.\n`,
);
console.log(`Results written to bench/results/net-worth-${stamp}.{json,md}`);
