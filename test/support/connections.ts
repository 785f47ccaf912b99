import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call } from "./http";
import { authed } from "./identity";

/** A connection as the API renders it. */
export interface ConnectionJson {
  id: string;
  provider: string;
  alias: string | null;
  status: string;
  created_at: string;
  updated_at: string;
  last_synced_at: string | null;
  next_sync_at: string | null;
  last_error: { code: string; message: string; at: string } | null;
  consecutive_failures: number;
  cooldown_until: string | null;
  credentials_expire_at: string | null;
  reauth_recommended: boolean;
}

export interface Started {
  connection: ConnectionJson;
  authorization_url: string;
  state: string;
  expires_in: number;
}

/** POST /api/v1/connections. */
export const startConnect = (token: string, body: Record<string, unknown> = { provider: "sandbox" }) =>
  authed(token, "/api/v1/connections", { method: "POST", json: body });

/** Starts a sandbox connect and returns the parsed 201 body. */
export async function started(token: string, body: Record<string, unknown> = {}): Promise<Started> {
  const res = await startConnect(token, { provider: "sandbox", ...body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Started;
}

/**
 * Follows an authorization URL like a browser: the sandbox is served by the same Worker at
 * /sandbox, so its path goes through `call()`. Returns the 302's Location (our callback).
 */
export async function authorize(authorizationUrl: string): Promise<URL> {
  const url = new URL(authorizationUrl);
  expect(url.pathname).toBe("/sandbox/v1/oauth/authorize");
  const res = await call(url.pathname + url.search, { redirect: "manual" });
  expect(res.status, await res.clone().text()).toBe(302);
  const location = new URL(res.headers.get("Location") as string);
  expect(location.pathname).toBe("/api/v1/connections/callback");
  return location;
}

/** The browser's return to our callback (GET), asking for JSON unless `accept` says otherwise. */
export const callbackGet = (location: URL, accept = "application/json") =>
  call(location.pathname + location.search, { headers: { Accept: accept } });

/** What the GET callback hands back to the app (its JSON form). */
export interface HandOff {
  state: string;
  code?: string;
  error?: string;
}

/** The app completes the flow with its own access token (POST /connections/callback). */
export const callbackPost = (token: string, body: HandOff) =>
  authed(token, "/api/v1/connections/callback", { method: "POST", json: body });

/** The hand-off the GET callback gives for an authorization redirect (JSON form). */
export async function handOffOf(location: URL): Promise<HandOff> {
  const res = await callbackGet(location);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as HandOff;
}

/** Follows an authorization URL to the end: consent at the sandbox, hand-off, POST /callback. */
export async function complete(token: string, authorizationUrl: string): Promise<Response> {
  return callbackPost(token, await handOffOf(await authorize(authorizationUrl)));
}

/** Start → authorize at the sandbox → GET callback (hand-off) → POST callback; the active connection. */
export async function connectSandbox(token: string, body: Record<string, unknown> = {}): Promise<ConnectionJson> {
  const start = await started(token, body);
  const res = await callbackPost(token, await handOffOf(await authorize(start.authorization_url)));
  expect(res.status, await res.clone().text()).toBe(200);
  const { connection } = (await res.json()) as { connection: ConnectionJson };
  return connection;
}

/** The raw D1 row of a connection (what "a direct look at D1" sees). */
export const rawConnection = (id: string) =>
  env.DB.prepare("SELECT * FROM connections WHERE id = ?").bind(id).first<Record<string, unknown>>();

/** Audit rows of one action for one connection, oldest first. */
export async function auditFor(action: string, connectionId: string) {
  const rows = await env.DB.prepare(
    "SELECT * FROM audit_events WHERE action = ? AND json_extract(details, '$.connection_id') = ? ORDER BY occurred_at, id",
  )
    .bind(action, connectionId)
    .all<{ outcome: string; user_id: string | null; actor_id: string | null; details: string }>();
  return rows.results.map((r) => ({ ...r, details: JSON.parse(r.details ?? "{}") as Record<string, unknown> }));
}

/** POST /api/v1/dev/connections/{id}/refresh. */
export const devRefresh = (token: string, id: string, force = false) =>
  authed(token, `/api/v1/dev/connections/${id}/refresh`, { method: "POST", json: { force } });

/** Makes the stored access token look about to expire, so the next use refreshes it. */
export const ageAccessToken = (id: string, msLeft = 60_000) =>
  env.DB.prepare("UPDATE connections SET access_token_expires_at = ? WHERE id = ?")
    .bind(Date.now() + msLeft, id)
    .run();
