import { Hono } from "hono";
import { createSandboxApp, type SandboxOptions } from "../../../src/providers/sandbox";
import { createSchwabAdapter } from "../../../src/providers/schwab";
import type { ProviderAdapter, ProviderTokens } from "../../../src/providers/types";

export const ORIGIN = "https://sandbox.test";
export const BASE_URL = `${ORIGIN}/sandbox`;
export const REDIRECT_URI = "https://app.ledgerlink.test/api/v1/connections/callback";
export const CLIENT_ID = "sandbox-app-key";
export const CLIENT_SECRET = "sandbox-app-secret";
/** A fixed, whole-second start time so tests are reproducible. */
export const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);

/** A clock tests move by hand. */
export class Clock {
  constructor(public ms = T0) {}
  now = () => new Date(this.ms);
  advance(ms: number) {
    this.ms += ms;
  }
}

/** A call the sandbox received and how it answered. */
export interface Seen {
  method: string;
  url: URL;
  status: number;
  /** Parsed JSON array length for array answers. */
  items: number | null;
}

/**
 * The sandbox mounted at /sandbox as the Worker will mount it, and a `fetch` that sends real
 * Request objects through it (so the adapter runs against real HTTP semantics).
 */
export function mountSandbox(options: SandboxOptions = {}) {
  const clock = new Clock();
  const app = new Hono().route(
    "/sandbox",
    createSandboxApp({
      secret: "test-secret",
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      now: clock.now,
      ...options,
    }),
  );
  const seen: Seen[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const req = new Request(input, init);
    const res = await app.fetch(req);
    let items: number | null = null;
    if (res.headers.get("Content-Type")?.includes("json")) {
      try {
        const body = (await res.clone().json()) as unknown;
        items = Array.isArray(body) ? body.length : null;
      } catch {
        items = null;
      }
    }
    seen.push({ method: req.method, url: new URL(req.url), status: res.status, items });
    return res;
  };
  return { app, fetch, clock, seen };
}

/** The Schwab adapter pointed at a mounted sandbox. */
export function adapterFor(
  sandbox: ReturnType<typeof mountSandbox>,
  overrides: { timeouts?: { connectMs: number; totalMs: number }; clientSecret?: string } = {},
): ProviderAdapter {
  return createSchwabAdapter({
    clientId: CLIENT_ID,
    clientSecret: overrides.clientSecret ?? CLIENT_SECRET,
    baseUrl: BASE_URL,
    fetch: sandbox.fetch,
    timeouts: overrides.timeouts ?? { connectMs: 2000, totalMs: 5000 },
    now: sandbox.clock.now,
  });
}

function b64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** A fresh PKCE pair (RFC 7636 §4.1, §4.2), computed independently of the sandbox's code. */
export async function pkcePair() {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: b64url(new Uint8Array(digest)) };
}

/** Follows the authorize URL like a browser would and returns the redirect's parameters. */
export async function authorize(sandbox: ReturnType<typeof mountSandbox>, url: string) {
  const res = await sandbox.fetch(url, { redirect: "manual" });
  if (res.status !== 302) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
  const location = new URL(res.headers.get("Location") as string);
  return { location, params: location.searchParams };
}

/** Runs the whole code flow (authorize → callback → exchange) for a scenario and login. */
export async function connect(
  sandbox: ReturnType<typeof mountSandbox>,
  adapter: ProviderAdapter,
  opts: { scenario?: string; login?: string } = {},
): Promise<ProviderTokens> {
  const { verifier, challenge } = await pkcePair();
  const url = new URL(
    adapter.authorizationUrl({
      state: "state-123",
      codeChallenge: challenge,
      redirectUri: REDIRECT_URI,
      scenario: opts.scenario,
    }),
  );
  if (opts.login) url.searchParams.set("login", opts.login);
  const { params } = await authorize(sandbox, url.toString());
  return adapter.exchangeCode({
    code: params.get("code") as string,
    codeVerifier: verifier,
    redirectUri: REDIRECT_URI,
  });
}

/** Awaits a promise that must reject, and returns the error. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

/** Reads a trader endpoint directly (raw Schwab JSON), bypassing the adapter. */
export async function raw(sandbox: ReturnType<typeof mountSandbox>, accessToken: string, path: string) {
  const res = await sandbox.fetch(`${BASE_URL}/trader/v1${path}`, {
    headers: { Authorization: `Bearer ${accessToken}` },
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
}

export const DAY = 86_400_000;
export const DECIMAL = /^-?\d+(\.\d+)?$/;
