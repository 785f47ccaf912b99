// Helpers for e2e tests that drive a real `wrangler dev` over HTTP.
import { expect } from "vitest";
// @ts-expect-error: plain ESM helper shared with `npm run dev` and the benchmarks.
import { d1Local } from "../../scripts/lib/local.mjs";
// @ts-expect-error: plain ESM helper shared with the benchmarks.
import { waitForEmail, waitForToken } from "../../scripts/lib/outbox.mjs";

export { waitForEmail, waitForToken };

export const PASSWORD = "Tr1cky-Bison-42!";

/** What `client/examples/journey.ts` prints when the whole journey succeeds, step by step. */
export const JOURNEY_STEPS = [
  /✓ registered/,
  /✓ verified/,
  /✓ logged in/,
  /✓ connected Sandbox Finance \(con_[\w-]+, active, consent until \d{4}-/,
  /✓ synced: 2 accounts, \d+ transactions/,
  /✓ connected a SimpleFIN bridge \(con_[\w-]+, active, no redirect\)/,
  /EUR {3}\d{4}-\d{2}-\d{2} .* \*\n/,
  /✓ net worth over two simulated days in EUR, GBP, USD/,
  /✓ asset checking Main Account: -?\d+(\.\d+)? EUR/,
  /✓ liability credit_card Credit Card: -?\d+(\.\d+)? GBP/,
  /✓ read the change feed: \d+ transactions/,
  /✓ logged out/,
];

/** A random private-range address: each client gets its own per-IP rate limits. */
const randomIp = () =>
  `10.${(Math.random() * 255) | 0}.${(Math.random() * 255) | 0}.${((Math.random() * 254) | 0) + 1}`;

/** A small HTTP client for one server, acting as one client IP (`CF-Connecting-IP`). */
export function client(base: string, ip = randomIp()) {
  const send = (path: string, init: RequestInit & { json?: unknown; token?: string } = {}) => {
    const { json, token, ...rest } = init;
    const headers = new Headers(rest.headers);
    headers.set("CF-Connecting-IP", ip);
    if (token) headers.set("Authorization", `Bearer ${token}`);
    if (json !== undefined) headers.set("Content-Type", "application/json");
    const url = path.startsWith("http") ? path : base + path;
    return fetch(url, {
      ...rest,
      headers,
      body: json === undefined ? rest.body : JSON.stringify(json),
      redirect: "manual",
    });
  };
  return { send };
}

/** What `client()` sends with. */
export type Send = ReturnType<typeof client>["send"];

/** Registers, verifies through the dev outbox and logs in; returns the access token. */
export async function newUser(base: string, tag: string, address?: string): Promise<string> {
  const { send } = client(base);
  const email = address ?? `${tag}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}@example.com`;
  await send("/api/v1/auth/register", { method: "POST", json: { email, password: PASSWORD, name: "E2E" } });
  const token = await waitForToken(base, email, /confirm/i);
  await send("/api/v1/auth/verify-email", { method: "POST", json: { token } });
  return loginAs(base, email);
}

async function loginAs(base: string, email: string): Promise<string> {
  const res = await client(base).send("/api/v1/auth/login", { method: "POST", json: { email, password: PASSWORD } });
  if (res.status !== 200) throw new Error(`login answered ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Reads the local D1 of a `wrangler dev` directly, as an operator would (`wrangler d1 execute`). */
export function d1<T = Record<string, unknown>>(persistTo: string, sql: string): T[] {
  return d1Local(persistTo, sql) as T[];
}

/** Several queries in one `wrangler d1 execute` (one wrangler start instead of one each): each one's rows. */
export function d1Many(persistTo: string, sql: string[]): Record<string, unknown>[][] {
  return d1Local(persistTo, sql) as Record<string, unknown>[][];
}

/** Starts a connection and walks the browser's redirect flow through the sandbox to our callback. */
export async function connectSandbox(base: string, token: string, body: Record<string, unknown> = {}) {
  const { send } = client(base);
  const start = await send("/api/v1/connections", { method: "POST", token, json: { provider: "sandbox", ...body } });
  if (start.status !== 201) throw new Error(`connect answered ${start.status}: ${await start.text()}`);
  const started = (await start.json()) as { connection: { id: string }; authorization_url: string; state: string };
  const consent = await send(started.authorization_url);
  if (consent.status !== 302) throw new Error(`authorize answered ${consent.status}: ${await consent.text()}`);
  const location = consent.headers.get("Location") as string;
  return { started, location };
}

/**
 * What the app does after the provider's redirect: read the hand-off from the GET callback (JSON)
 * and complete the connection with its own access token. Returns the POST's answer.
 */
export async function completeConnect(base: string, token: string, location: string) {
  const { send } = client(base);
  const handOff = await send(location, { headers: { Accept: "application/json" } });
  if (handOff.status !== 200) throw new Error(`callback answered ${handOff.status}: ${await handOff.text()}`);
  return send("/api/v1/connections/callback", { method: "POST", token, json: await handOff.json() });
}

/** The body of an answer with `status` (the body in the message when it is not). */
export async function body<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  expect(res.status, `${res.url} answered ${text}`).toBe(status);
  return JSON.parse(text) as T;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A sync run as the API answers it. */
export interface Run {
  id: string;
  trigger: string;
  status: string;
  stats: Record<string, number> | null;
  error: { code: string; message: string } | null;
}
const FINISHED = ["succeeded", "failed", "skipped", "dead_lettered"];

/**
 * A manual sync, queued over HTTP and watched in the connection's runs until it ends (bounded).
 * Other files share the server, and with it the per-user read limit of this test's own reads, so
 * a 429 here waits its Retry-After instead of failing the test.
 */
export async function syncNow(send: Send, token: string, id: string, timeoutMs = 45_000): Promise<Run> {
  const { sync } = await body<{ sync: { id: string; status: string } }>(
    await send(`/api/v1/connections/${id}/sync`, { method: "POST", token }),
    202,
  );
  expect(sync.status).toBe("queued");
  const deadline = Date.now() + timeoutMs;
  for (let wait = 250; ; wait = Math.min(wait * 2, 1_000)) {
    await sleep(wait);
    const res = await send(`/api/v1/connections/${id}/syncs?limit=5`, { token });
    if (res.status === 429) {
      await sleep(Number(res.headers.get("Retry-After") ?? 1) * 1_000);
      continue;
    }
    const run = (await body<{ syncs: Run[] }>(res)).syncs.find((r) => r.id === sync.id);
    if (run && FINISHED.includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`sync ${sync.id} did not end; last seen: ${JSON.stringify(run)}`);
  }
}
