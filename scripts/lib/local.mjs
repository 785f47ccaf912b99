// Helpers shared by `npm run dev`, the e2e suite and the benchmarks: local secrets, local D1
// migrations and a `wrangler dev` child process.
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { devSettings, renderDevVars } from "./secrets.mjs";

export const ROOT = resolve(import.meta.dirname, "../..");
const WRANGLER = resolve(ROOT, "node_modules/.bin/wrangler");

/** The names set in a dotenv file. */
export function dotenvKeys(path) {
  if (!existsSync(path)) return new Set();
  return new Set(
    readFileSync(path, "utf8")
      .split("\n")
      .map((l) => /^\s*(?:export\s+)?([A-Za-z0-9_]+)\s*=/.exec(l)?.[1])
      .filter(Boolean),
  );
}

export const DEV_VARS = resolve(ROOT, ".dev.vars");

/**
 * Writes .dev.vars (ENVIRONMENT=development and fresh secrets) when it is missing, and appends
 * what a newer version needs to an existing one (never overwriting a value). Returns what it did.
 */
export function ensureDevVars(path = DEV_VARS) {
  const settings = devSettings();
  if (!existsSync(path)) {
    writeFileSync(path, renderDevVars(settings), { mode: 0o600 });
    return "created";
  }
  const present = dotenvKeys(path);
  const missing = Object.entries(settings).filter(([k]) => !present.has(k));
  if (missing.length === 0) return "unchanged";
  appendFileSync(path, missing.map(([k, v]) => `${k}='${v}'\n`).join(""));
  return `added ${missing.map(([k]) => k).join(", ")}`;
}

/**
 * Applies every pending D1 migration to the local database (optionally a separate state dir).
 * Quiet: one line saying what was applied; wrangler's own tables only when it fails.
 */
export function migrateLocal({ persistTo, quiet = true } = {}) {
  const args = ["d1", "migrations", "apply", "DB", "--local"];
  if (persistTo) args.push("--persist-to", persistTo);
  const r = spawnSync(WRANGLER, args, {
    cwd: ROOT,
    encoding: "utf8",
    stdio: quiet ? "pipe" : "inherit",
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
  });
  if (r.status !== 0) {
    if (quiet) process.stderr.write(`${r.stdout ?? ""}${r.stderr ?? ""}`);
    throw new Error(`wrangler d1 migrations apply failed (exit ${r.status})`);
  }
  if (!quiet) return;
  const applied = [...new Set((r.stdout ?? "").match(/\d{4}_[a-z0-9_]+\.sql/g) ?? [])];
  return applied;
}

/**
 * Runs SQL against a local D1 state directory (`wrangler d1 execute --local`) and returns the rows.
 * Given several statements, runs them in one wrangler call (each call starts a Node process and
 * wrangler, about a second of CPU) and returns each one's rows.
 */
export function d1Local(persistTo, sql) {
  const statements = Array.isArray(sql) ? sql : [sql];
  const r = spawnSync(
    WRANGLER,
    ["d1", "execute", "DB", "--local", "--persist-to", persistTo, "--json", "--command", statements.join(";\n")],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
    },
  );
  if (r.status !== 0) throw new Error(`wrangler d1 execute failed: ${r.stderr}`);
  const results = JSON.parse(r.stdout).map((s) => s.results ?? []);
  if (results.length !== statements.length)
    throw new Error(`wrangler d1 execute answered ${results.length} results for ${statements.length} statements`);
  return Array.isArray(sql) ? results : results[0];
}

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/**
 * Argument list for `wrangler dev` serving the whole API with triggerable crons. `envFile`
 * replaces .dev.vars as the source of secrets (e.g. another ENCRYPTION_KEYS for a rotation test).
 * `port` and `ip` are left out when null, for `extra` to carry the caller's own (wrangler refuses
 * an option given twice).
 */
export function devArgs({ port, ip = "127.0.0.1", persistTo, vars = {}, envFile, extra = [] }) {
  const args = ["dev"];
  if (port != null) args.push("--port", String(port));
  if (ip != null) args.push("--ip", ip);
  args.push("--test-scheduled", "--show-interactive-dev-session=false");
  if (persistTo) args.push("--persist-to", persistTo);
  if (envFile) args.push("--env-file", envFile);
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  args.push(...extra);
  return args;
}

/**
 * Starts `wrangler dev` in the background, waits until /health answers, and returns
 * `{ url, stop }`. Used by the e2e suite and the benchmarks. APP_BASE_URL is the server's own
 * URL, so links and redirects it builds (emails, OAuth authorize/callback) lead back to it. Its
 * settings come from `envFile`, or a fresh development one beside its state, never from the
 * developer's .dev.vars, so a local tweak there cannot change what the suite sees. `migrate:
 * false` skips applying the migrations (state that already has them: another "deploy" of it).
 * `onOutput` receives wrangler's output as it comes (the Worker's log lines among it).
 */
export async function startDevServer({
  persistTo,
  vars,
  settings = {},
  envFile,
  log = false,
  onOutput,
  timeoutMs = 90_000,
  extraArgs = [],
  migrate = true,
} = {}) {
  if (!envFile) {
    const dir = persistTo ? resolve(persistTo, "..") : resolve(ROOT, ".wrangler");
    mkdirSync(dir, { recursive: true });
    envFile = resolve(dir, `dev-server-${process.pid}.env`);
    writeFileSync(envFile, renderDevVars({ ...devSettings(), ...settings }), { mode: 0o600 });
  }
  if (migrate) migrateLocal({ persistTo });
  // A free port can be taken by another process (a test starting its own server alongside)
  // between our look and wrangler's bind: then wrangler exits early, and another port is tried.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const args = devArgs({ port, persistTo, envFile, vars: { APP_BASE_URL: url, ...vars }, extra: extraArgs });
    try {
      return await launch(args, url, "/health", { log, onOutput, timeoutMs });
    } catch (err) {
      if (attempt >= 3 || !/Address already in use/.test(String(err))) throw err;
    }
  }
}

/**
 * A bare Hono Worker (bench/bare/) under the same wrangler, on its own port: the yardstick the
 * benchmarks divide by, served in the same run on the same machine.
 */
export async function startBareWorker({ config = "bench/bare/wrangler.toml", timeoutMs = 60_000 } = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = ["dev", "--config", config, "--port", String(port), "--ip", "127.0.0.1"];
  return launch([...args, "--show-interactive-dev-session=false"], url, "/", { timeoutMs });
}

/** Spawns `wrangler <args>` in its own process group and waits until `url + readyPath` answers 2xx. */
async function launch(args, url, readyPath, { log = false, onOutput, timeoutMs }) {
  const child = spawn(WRANGLER, args, {
    cwd: ROOT,
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const collect = (d) => {
    output = (output + d.toString()).slice(-20_000);
    if (log) process.stderr.write(d);
    onOutput?.(d.toString());
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler exited early:\n${output}`);
    try {
      const r = await fetch(url + readyPath);
      if (r.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      stopProcessGroup(child);
      throw new Error(`wrangler did not answer ${readyPath} within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    output: () => output,
    stop: () => stopProcessGroup(child),
  };
}

function stopProcessGroup(child) {
  return new Promise((res) => {
    if (child.exitCode !== null) return res();
    child.once("exit", () => res());
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      res();
    }
    setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
      res();
    }, 5000).unref();
  });
}

/**
 * The value of a wrangler option in `argv`, given as `--name value` or `--name=value`; undefined
 * when absent. Throws when it is given twice or without a value.
 */
export function optionValue(argv, name) {
  const flag = `--${name}`;
  let found;
  argv.forEach((arg, i) => {
    let value;
    if (arg === flag) value = argv[i + 1];
    else if (arg.startsWith(`${flag}=`)) value = arg.slice(flag.length + 1);
    else return;
    if (value === undefined || value === "" || value.startsWith("-"))
      throw new Error(`${flag} needs a value, e.g. ${flag} ${{ port: "9000", ip: "0.0.0.0" }[name] ?? "<value>"}`);
    if (found !== undefined) throw new Error(`${flag} is given twice (${found} and ${value})`);
    found = value;
  });
  return found;
}

/** A TCP port number from text, or an error naming where it came from. */
function portFrom(text, source) {
  const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${source} must be a TCP port number (1-65535), got ${text}`);
  return port;
}

/**
 * The host a browser on this machine reaches a server listening on `ip` by: localhost for the
 * default, a loopback or an every-interface address; the address itself otherwise.
 */
function browserHost(ip) {
  if (ip === undefined || ["0.0.0.0", "::", "*", "localhost", "::1", "[::1]"].includes(ip) || /^127\./.test(ip))
    return "localhost";
  return ip.includes(":") && !ip.startsWith("[") ? `[${ip}]` : ip;
}

/**
 * What `npm run dev` runs, from its inputs. The port is the user's `--port` (passed through to
 * wrangler as given), else PORT, else 8787; the user's `--ip` likewise replaces the default
 * 127.0.0.1. APP_BASE_URL is derived from them unless set in the environment or .dev.vars, and
 * every extra argument goes through to `wrangler dev` (`npm run dev -- --var X:y`). A
 * `--persist-to` is where the migrations are applied as well.
 */
export function devPlan({ argv = [], env = {}, devVarsKeys = new Set() } = {}) {
  const portArg = optionValue(argv, "port");
  const ip = optionValue(argv, "ip");
  const port =
    portArg !== undefined ? portFrom(portArg, "--port") : env.PORT !== undefined ? portFrom(env.PORT, "PORT") : 8787;
  const base = `http://${browserHost(ip)}:${port}`;
  const vars = env.APP_BASE_URL || devVarsKeys.has("APP_BASE_URL") ? {} : { APP_BASE_URL: base };
  const args = devArgs({
    port: portArg === undefined ? port : null,
    ip: ip === undefined ? "127.0.0.1" : null,
    vars,
    extra: argv,
  });
  return { port, base, persistTo: optionValue(argv, "persist-to"), args };
}
