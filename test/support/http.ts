import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { exports, env as testEnv } from "cloudflare:workers";
import worker from "../../src";
import type { Problem } from "../../src/http/problems";

const BASE = "https://api.ledgerlink.test";

/** A random private-range client address, so tests don't share per-IP rate limits. */
export const randomIp = () =>
  `10.${(Math.random() * 255) | 0}.${(Math.random() * 255) | 0}.${(Math.random() * 254 + 1) | 0}`;

export type CallInit = RequestInit & {
  json?: unknown;
  /** Serve with these bindings instead (a deploy with other settings); waits for its waitUntil work. */
  env?: Env;
};

/**
 * Sends a request through the Worker's real fetch handler (all middleware, real bindings). Each
 * call comes from a fresh client IP unless the caller sets CF-Connecting-IP.
 */
export async function call(path: string, init: CallInit = {}): Promise<Response> {
  const { json, env, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (!headers.has("CF-Connecting-IP")) headers.set("CF-Connecting-IP", randomIp());
  if (json !== undefined) {
    headers.set("Content-Type", "application/json");
    rest.body = JSON.stringify(json);
  }
  const request = new Request(BASE + path, { ...rest, headers });
  if (!env) return exports.default.fetch(request);
  const ctx = createExecutionContext();
  const res = await worker.fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** The Worker's env with some variables changed (a deploy with other [vars]). */
export const envWith = (vars: Record<string, string>): Env => ({ ...testEnv, ...vars }) as Env;

/**
 * An env where one client may try logins as fast as it likes (the per-IP limit, 5 a minute, is
 * raised), so a test can reach the lockout itself from one client.
 */
export const patientEnv = envWith({
  RATE_LIMITS: JSON.stringify({ login_ip: { burst: 1000, refill: 1000, per_seconds: 60 } }),
});

/** The parsed problem+json body of an error response, after checking its media type. */
export async function problem(res: Response) {
  if (res.headers.get("Content-Type") !== "application/problem+json") {
    throw new Error(`expected problem+json, got ${res.headers.get("Content-Type")}: ${await res.text()}`);
  }
  return (await res.json()) as Problem;
}
