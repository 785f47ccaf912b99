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
