#!/usr/bin/env node
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { ROOT, startDevServer } from "../scripts/lib/local.mjs";
// `npm run bench:providers`: per-operation cost of credential encryption and of a provider token
// refresh (the figures issue 5 asks for).
//   1. In-process (Node's WebCrypto, the real src/ code bundled by esbuild): keyring encrypt +
//      decrypt of a Schwab-sized token; the Schwab adapter's refresh grant against the sandbox
//      app (HTTP semantics, no network); the same plus sealing the new pair (2 encrypts) as the
//      service does.
//   2. End to end (unless BENCH_HTTP=0): a local `wrangler dev`, forced refreshes through
//      POST /api/v1/dev/connections/{id}/refresh (lease UPDATE, decrypt, sandbox refresh, encrypt,
//      D1 batch), against GET of the same connection as the baseline.
// Knobs: BENCH_N (in-process iterations, default 2000), BENCH_HTTP_N (default 100).
import { waitForToken } from "../scripts/lib/outbox.mjs";

const N = Number(process.env.BENCH_N ?? 2000);
const HTTP_N = Number(process.env.BENCH_HTTP_N ?? 100);

const entry = `
import { createKeyring } from "./src/crypto/keyring";
import { createSandboxApp } from "./src/providers/sandbox";
import { createSchwabAdapter } from "./src/providers/schwab";
import { Hono } from "hono";
export { createKeyring, createSandboxApp, createSchwabAdapter, Hono };
`;

const stats = (samples) => {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: at(0.5), p99: at(0.99), n: s.length };
};
const fmt = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);
const row = (name, st) => `| ${name} | ${st.n} | ${fmt(st.mean)} | ${fmt(st.p50)} | ${fmt(st.p99)} |`;

async function time(n, fn) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}

async function inProcess() {
  const dir = mkdtempSync(join(tmpdir(), "ledgerlink-bench-"));
  try {
    const bundled = await build({
      stdin: { contents: entry, resolveDir: ROOT, loader: "ts" },
      bundle: true,
      format: "esm",
      platform: "node",
      write: false,
      logLevel: "error",
    });
    const file = join(dir, "bench-bundle.mjs");
    writeFileSync(file, bundled.outputFiles[0].text);
    const m = await import(pathToFileURL(file).href);

    const key = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const keyring = await m.createKeyring(`k2:${key()},k1:${key()}`);
    const aad = { userId: "usr_bench", connectionId: "con_bench", field: "access_token" };

    const sandbox = new m.Hono().route(
      "/sandbox",
      m.createSandboxApp({ secret: "bench", clientId: "id", clientSecret: "secret" }),
    );
    const adapter = m.createSchwabAdapter({
      clientId: "id",
      clientSecret: "secret",
      baseUrl: "https://sandbox.bench/sandbox",
      fetch: async (input, init) => sandbox.fetch(new Request(input, init)),
      timeouts: { connectMs: 5000, totalMs: 10000 },
    });
    const verifier = "v".repeat(43);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const challenge = Buffer.from(digest).toString("base64url");
    const redirectUri = "https://api.bench/api/v1/connections/callback";
    const consent = await sandbox.fetch(
      new Request(adapter.authorizationUrl({ state: "s", codeChallenge: challenge, redirectUri })),
    );
    const code = new URL(consent.headers.get("Location")).searchParams.get("code");
    const tokens = await adapter.exchangeCode({ code, codeVerifier: verifier, redirectUri });
    const plaintext = tokens.accessToken;

    await time(200, async () => keyring.decrypt(await keyring.encrypt(plaintext, aad), aad)); // warm-up
    const pair = await time(N, async () => keyring.decrypt(await keyring.encrypt(plaintext, aad), aad));
    const sealed = await keyring.encrypt(plaintext, aad);
    const enc = await time(N, () => keyring.encrypt(plaintext, aad));
    const dec = await time(N, () => keyring.decrypt(sealed, aad));
    await time(50, () => adapter.refresh(tokens.refreshToken));
    const refresh = await time(Math.min(N, 500), () => adapter.refresh(tokens.refreshToken));
    const serviceLike = await time(Math.min(N, 500), async () => {
      const stored = await keyring.decrypt(await keyring.encrypt(tokens.refreshToken, aad), aad);
      const r = await adapter.refresh(stored);
      await Promise.all([keyring.encrypt(r.accessToken, aad), keyring.encrypt(r.refreshToken, aad)]);
    });
    return [
      row(`encrypt + decrypt (AES-256-GCM, ${plaintext.length}-char token)`, stats(pair)),
      row("encrypt only", stats(enc)),
      row("decrypt only", stats(dec)),
      row("token refresh: Schwab adapter → in-process sandbox", stats(refresh)),
      row("token refresh + decrypt old + encrypt new pair (no D1)", stats(serviceLike)),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function overHttp() {
  const persistTo = resolve(ROOT, ".wrangler/bench-providers-state");
  rmSync(persistTo, { recursive: true, force: true });
  // Lift the per-user limits (a load test is not a 429 test); the home still runs for each call.
  const huge = { burst: 100_000, refill: 100_000, per_seconds: 1 };
  const limits = { user_read: huge, user_write: huge, login_ip: huge, login_email: huge, connect_provider: huge };
  const server = await startDevServer({ persistTo, vars: { RATE_LIMITS: JSON.stringify(limits) } });
  try {
    const { id, headers } = await userWithConnection(server.url);
    const refresh = () =>
      fetch(`${server.url}/api/v1/dev/connections/${id}/refresh`, {
        method: "POST",
        headers,
        body: JSON.stringify({ force: true }),
      }).then((r) => r.arrayBuffer());
    const read = () => fetch(`${server.url}/api/v1/connections/${id}`, { headers }).then((r) => r.arrayBuffer());
    await time(20, refresh);
    await time(20, read);
    const refreshes = stats(await time(HTTP_N, refresh));
    const reads = stats(await time(HTTP_N, read));
    return [
      row("HTTP: forced refresh via wrangler dev (lease, decrypt, refresh, encrypt, D1 batch)", refreshes),
      row("HTTP: GET the same connection (baseline: auth + one D1 read)", reads),
      `\nRefresh cost over the baseline: ≈ ${fmt(refreshes.p50 - reads.p50)} (p50).`,
    ];
  } finally {
    await server.stop();
    rmSync(persistTo, { recursive: true, force: true });
  }
}

/** A verified, logged-in user and one active sandbox connection, over HTTP. */
async function userWithConnection(base) {
  const headers = { "Content-Type": "application/json", "CF-Connecting-IP": "10.9.8.7" };
  const post = (path, body, token) =>
    fetch(base + path, {
      method: "POST",
      headers: token ? { ...headers, Authorization: `Bearer ${token}` } : headers,
      body: JSON.stringify(body),
    });
  const email = `bench.${Date.now().toString(36)}@example.com`;
  const password = "Tr1cky-Bison-42!";
  await post("/api/v1/auth/register", { email, password, name: "Bench" });
  await post("/api/v1/auth/verify-email", { token: await waitForToken(base, email, /confirm/i) });
  const { access_token: token } = await (await post("/api/v1/auth/login", { email, password })).json();
  const started = await (await post("/api/v1/connections", { provider: "sandbox" }, token)).json();
  const consent = await fetch(started.authorization_url, { redirect: "manual" });
  const handOff = await (
    await fetch(consent.headers.get("Location"), { headers: { Accept: "application/json" } })
  ).json();
  await post("/api/v1/connections/callback", handOff, token);
  return { token, id: started.connection.id, headers: { ...headers, Authorization: `Bearer ${token}` } };
}

const header = ["| operation | n | mean | p50 | p99 |", "|---|---:|---:|---:|---:|"];
const lines = [...header, ...(await inProcess())];
if (process.env.BENCH_HTTP !== "0") lines.push(...(await overHttp()));
console.log(`\n${lines.join("\n")}\n\nNode ${process.version}; in-process figures use Node's WebCrypto.`);
