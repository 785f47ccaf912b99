#!/usr/bin/env node
// `npm run bench:profile [-- <path>]`: where an authenticated read spends the Worker's CPU. Starts
// the API under `wrangler dev` with the DevTools inspector, makes a synced user, drives the path
// (default /api/v1/accounts) with autocannon while the V8 CPU profiler samples the Worker, and
// prints the share of busy time in the Worker's bundle against the runtime itself, then the
// functions with the most self time (bundle line numbers). Writes the
// raw profile (open it in Chrome DevTools) to bench/results/profile-<timestamp>.cpuprofile.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import autocannon from "autocannon";
import { freePort, ROOT, startDevServer } from "../scripts/lib/local.mjs";
import { syncedSession } from "./identity.mjs";

const path = process.argv[2] ?? "/api/v1/accounts";
const seconds = Number(process.env.BENCH_DURATION ?? 8);
const persistTo = resolve(ROOT, ".wrangler/bench-profile-state");
rmSync(persistTo, { recursive: true, force: true });
const huge = { burst: 100_000, refill: 100_000, per_seconds: 1 };
const inspector = await freePort();
const server = await startDevServer({
  persistTo,
  vars: { RATE_LIMITS: JSON.stringify({ user_read: huge, user_write: huge }) },
  // Unminified, so the profile names our functions and the packages they live in.
  extraArgs: ["--inspector-port", String(inspector), "--minify=false"],
});
try {
  const s = await syncedSession(server.url);
  const headers = { Authorization: `Bearer ${s.tokens.access_token}`, ...s.ip };
  let target = path;
  if (path.includes("{account}")) {
    const { accounts } = await (await fetch(`${server.url}/api/v1/accounts`, { headers })).json();
    target = path.replace("{account}", accounts[0].id);
  }
  const load = (duration) =>
    new Promise((res, rej) =>
      autocannon({ url: server.url + target, headers, connections: 10, duration }, (e, r) => (e ? rej(e) : res(r))),
    );
  await load(2);

  // The inspector lists one target per Worker; ours is the one named after wrangler.toml's `name`.
  const targets = await (await fetch(`http://127.0.0.1:${inspector}/json`)).json();
  const worker = targets.find((t) => /ledgerlink/.test(t.title ?? t.id)) ?? targets[0];
  // The inspector refuses an upgrade without a local Origin (miniflare's DevTools proxy).
  const ws = new WebSocket(worker.webSocketDebuggerUrl, { headers: { Origin: "http://localhost" } });
  ws.addEventListener("error", (e) => console.error("inspector:", e.message));
  await new Promise((r) => ws.addEventListener("open", r, { once: true }));
  let id = 0;
  const pending = new Map();
  ws.addEventListener("message", (e) => {
    const msg = JSON.parse(e.data);
    if (!msg.id) return;
    if (msg.error) console.error(msg.error);
    if (pending.has(msg.id)) pending.get(msg.id)(msg.result);
  });
  const send = (method, params = {}) =>
    new Promise((r) => {
      pending.set(++id, r);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  const r = await load(seconds);
  const { profile } = await send("Profiler.stop");
  // The bundle's source as served, so the line numbers below can be read (ours are minify=false).
  await send("Debugger.enable");
  const scriptId = profile.nodes.find((n) => n.callFrame.url)?.callFrame.scriptId;
  const source = scriptId ? (await send("Debugger.getScriptSource", { scriptId }))?.scriptSource : undefined;
  ws.close();

  const dir = resolve(ROOT, "bench/results");
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `profile-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  if (source) writeFileSync(file.replace(/\.cpuprofile$/, ".js"), source);

  // Self time per node = samples landing on it; sum per function and per package/file.
  const dt = (profile.endTime - profile.startTime) / profile.samples.length;
  const hits = new Map();
  for (const s of profile.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
  const byFn = new Map();
  const bySide = new Map();
  // wrangler serves one bundle, so a frame is either in it (a url) or in the runtime (none).
  const where = (url) => url || "(runtime)";
  let total = 0;
  for (const n of profile.nodes) {
    const h = hits.get(n.id) ?? 0;
    if (!h) continue;
    const cf = n.callFrame;
    const fn = `${cf.functionName || "(anonymous)"}  ${where(cf.url)}:${cf.lineNumber + 1}`;
    if (cf.functionName === "(idle)") continue;
    byFn.set(fn, (byFn.get(fn) ?? 0) + h);
    const side = cf.url ? "the Worker's bundle" : "the runtime (V8, workerd)";
    bySide.set(side, (bySide.get(side) ?? 0) + h);
    total += h;
  }
  const top = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([k, v]) =>
          `${((v / total) * 100).toFixed(1).padStart(5)}%  ${((v * dt) / 1000).toFixed(0).padStart(6)} ms  ${k}`,
      );
  // V8 counts a callee inlined into its caller as the caller's self time, so read these as
  // "in or under this function"; the .cpuprofile has the full call tree.
  console.log(`${target}: ${Math.round(r.requests.average)} req/s over ${seconds} s; busy samples ${total}`);
  console.log(`\nbusy time:\n${top(bySide, 2).join("\n")}`);
  console.log(`\nby function (self time):\n${top(byFn, 30).join("\n")}`);
  console.log(`\nprofile: ${file}`);
} finally {
  await server.stop();
}
