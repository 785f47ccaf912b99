#!/usr/bin/env node
// `npm run rehearse:restore`: rehearses docs/backup-restore.md on this machine. A local
// `wrangler dev` gets a user with a synced sandbox connection; the directory is exported with
// `wrangler d1 export` and restored into fresh local state (`wrangler d1 execute --file`), the
// user homes' storage is copied over (locally, the stand-in for Durable Object point-in-time
// recovery), and a server started on the restored state with the same keyring must let the user
// log in, read the same data, and use the connection's stored (encrypted) credentials.
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { connectSandbox, session } from "../bench/identity.mjs";
import { ROOT, startDevServer } from "./lib/local.mjs";
import { devSettings, renderDevVars } from "./lib/secrets.mjs";

// Each side is a project directory of its own (wrangler.toml + .wrangler/state), because
// `wrangler d1 export --local` reads the state beside the config it is given.
const dir = resolve(ROOT, ".wrangler/rehearsal");
const project = (name) => {
  const root = resolve(dir, name);
  mkdirSync(root, { recursive: true });
  copyFileSync(resolve(ROOT, "wrangler.toml"), resolve(root, "wrangler.toml"));
  return { config: resolve(root, "wrangler.toml"), state: resolve(root, ".wrangler/state") };
};
rmSync(dir, { recursive: true, force: true });
const original = project("original");
const restored = project("restored");
const dump = resolve(dir, "directory.sql");

function wrangler(args) {
  const r = spawnSync(resolve(ROOT, "node_modules/.bin/wrangler"), args, {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
  });
  if (r.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

const step = (what) => console.log(`- ${what}`);
const json = async (res) => {
  if (!res.ok) throw new Error(`${res.url} answered ${res.status}: ${await res.text()}`);
  return res.json();
};

let before;
let user;
/** One development env file (the same secrets, so the same keyring) for both servers. */
const envFile = resolve(dir, "rehearsal.env");
writeFileSync(envFile, renderDevVars(devSettings()), { mode: 0o600 });
const first = await startDevServer({ persistTo: original.state, envFile });
try {
  user = await session(first.url);
  const auth = { Authorization: `Bearer ${user.tokens.access_token}`, ...user.ip, "Content-Type": "application/json" };
  const id = await connectSandbox(first.url, auth, { login: "rehearsal" });
  const { sync } = await json(
    await fetch(`${first.url}/api/v1/connections/${id}/sync`, { method: "POST", headers: auth }),
  );
  for (;;) {
    const { syncs } = await json(await fetch(`${first.url}/api/v1/connections/${id}/syncs`, { headers: auth }));
    if (syncs.find((s) => s.id === sync.id)?.status === "succeeded") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  before = await json(await fetch(`${first.url}/api/v1/accounts`, { headers: auth }));
  before.connectionId = id;
  step(`original: ${user.email} with ${before.accounts.length} accounts on connection ${id}`);
} finally {
  await first.stop();
}

// Schema and rows apart: a single dump lists tables alphabetically, so rows can reference a
// table created later, which an import refuses; the rows file defers foreign keys itself.
step("wrangler d1 export DB --local --no-data / --no-schema (the directory)");
wrangler(["d1", "export", "DB", "--local", "--config", original.config, "--no-data", "--output", `${dump}.schema`]);
wrangler(["d1", "export", "DB", "--local", "--config", original.config, "--no-schema", "--output", `${dump}.rows`]);
step("wrangler d1 execute DB --local --file, schema then rows (into fresh state)");
for (const part of ["schema", "rows"]) {
  wrangler(["d1", "execute", "DB", "--local", "--config", restored.config, "--file", `${dump}.${part}`, "--yes"]);
}
const homes = resolve(original.state, "v3/do");
if (!existsSync(homes)) throw new Error(`no Durable Object storage under ${homes}`);
step("copy the homes' storage (Durable Object point-in-time recovery, locally)");
cpSync(homes, resolve(restored.state, "v3/do"), { recursive: true });

const second = await startDevServer({ persistTo: restored.state, envFile });
try {
  const ip = user.ip;
  const login = await json(
    await fetch(`${second.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...ip },
      body: JSON.stringify({ email: user.email, password: user.password }),
    }),
  );
  step("restored: the user logs in with their password");
  const auth = { Authorization: `Bearer ${login.access_token}`, ...ip, "Content-Type": "application/json" };
  const after = await json(await fetch(`${second.url}/api/v1/accounts`, { headers: auth }));
  const same = JSON.stringify(after.accounts) === JSON.stringify(before.accounts);
  if (!same) throw new Error("the restored accounts differ from the original ones");
  step(`restored: the same ${after.accounts.length} accounts, byte for byte`);
  const refreshed = await fetch(`${second.url}/api/v1/dev/connections/${before.connectionId}/refresh`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ force: true }),
  });
  if (!refreshed.ok) throw new Error(`stored credentials did not work: ${refreshed.status} ${await refreshed.text()}`);
  step("restored: the connection's encrypted credentials decrypt and refresh (same keyring)");
} finally {
  await second.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log("rehearsal: restore OK");
