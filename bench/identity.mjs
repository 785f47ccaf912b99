// Helpers for identity scenarios: make verified users through the real API and dev outbox.
import { waitForToken } from "../scripts/lib/outbox.mjs";

const PASSWORD = "Tr1cky-Bison-42!";
let n = 0;

async function post(url, path, json, headers = {}) {
  const res = await fetch(url + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(json),
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

/** Registers and verifies a fresh user; returns its email and password. */
export async function verifiedUser(url) {
  const email = `bench.${Date.now().toString(36)}.${++n}@example.com`;
  // Distinct client IPs keep setup clear of per-IP limits.
  const ip = { "CF-Connecting-IP": `198.18.${n >> 8}.${n & 255}` };
  await post(url, "/api/v1/auth/register", { email, password: PASSWORD, name: "Bench" }, ip);
  const token = await waitForToken(url, email, /confirm/i);
  await post(url, "/api/v1/auth/verify-email", { token }, ip);
  return { email, password: PASSWORD, ip };
}

/** A logged-in session for a fresh user. */
export async function session(url) {
  const user = await verifiedUser(url);
  const tokens = await post(url, "/api/v1/auth/login", { email: user.email, password: user.password }, user.ip);
  return { ...user, tokens };
}

/**
 * Connects a sandbox login through the real flow: POST /connections, the sandbox's consent
 * redirect, the hand-off, then POST /connections/callback. Returns the connection id.
 */
export async function connectSandbox(url, auth, body = {}) {
  const started = await post(url, "/api/v1/connections", { provider: "sandbox", ...body }, auth);
  const consent = await fetch(started.authorization_url, { redirect: "manual" });
  const handOff = await (
    await fetch(consent.headers.get("Location"), { headers: { Accept: "application/json" } })
  ).json();
  await post(url, "/api/v1/connections/callback", handOff, auth);
  return started.connection.id;
}

/**
 * A session whose user has a sandbox connection synced once (2 accounts, 200 transactions by
 * default): the data the read scenarios page through. Polls the manual sync's run until it
 * finishes.
 */
export async function syncedSession(url, body = {}) {
  const s = await session(url);
  const auth = { Authorization: `Bearer ${s.tokens.access_token}`, ...s.ip };
  const id = await connectSandbox(url, auth, body);
  const { sync } = await post(url, `/api/v1/connections/${id}/sync`, {}, auth);
  for (;;) {
    const { syncs } = await (await fetch(`${url}/api/v1/connections/${id}/syncs?limit=5`, { headers: auth })).json();
    const run = syncs.find((r) => r.id === sync.id);
    if (run?.status === "succeeded") break;
    if (run && ["failed", "dead_lettered", "skipped"].includes(run.status)) throw new Error(`sync ${run.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const { accounts } = await (await fetch(`${url}/api/v1/accounts`, { headers: auth })).json();
  return { ...s, connectionId: id, accounts };
}
