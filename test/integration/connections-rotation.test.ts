import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src";
import { createKeyring } from "../../src/crypto/keyring";
import { createDb } from "../../src/db/client";
import { createLogger } from "../../src/logger";
import { rewrapCredentials } from "../../src/services/connections/rewrap";
import { auditFor, type ConnectionJson, connectSandbox, rawConnection } from "../support/connections";
import { HOURLY_CRON, runCron } from "../support/deps";
import { homeSql } from "../support/home";
import { problem } from "../support/http";
import { seededSession } from "../support/seed";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const key = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const K1 = `k1:${key()}`;
const K2 = `k2:${key()}`;

/** The Worker with ENCRYPTION_KEYS set to `keys`, as after a deploy with that secret. */
const deployed = (keys: string) => ({ ...env, ENCRYPTION_KEYS: keys });

async function send(envOf: Env, token: string, path: string, init: RequestInit & { json?: unknown } = {}) {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set("Authorization", `Bearer ${token}`);
  if (json !== undefined) {
    headers.set("Content-Type", "application/json");
    rest.body = JSON.stringify(json);
  }
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`https://x.test${path}`, { ...rest, headers }), envOf, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** Connect → sandbox authorize → callback, all served by a Worker with the given env. */
async function connectWith(envOf: Env, token: string) {
  const start = (await (
    await send(envOf, token, "/api/v1/connections", { method: "POST", json: { provider: "sandbox" } })
  ).json()) as { connection: ConnectionJson; authorization_url: string; state: string };
  const url = new URL(start.authorization_url);
  const redirect = await send(envOf, token, url.pathname + url.search);
  const location = new URL(redirect.headers.get("Location") as string);
  return { start, location };
}

/** The app completes the flow: POST /connections/callback with the redirect's code and state. */
const completeWith = (envOf: Env, token: string, location: URL) =>
  send(envOf, token, "/api/v1/connections/callback", {
    method: "POST",
    json: { state: location.searchParams.get("state"), code: location.searchParams.get("code") },
  });

/** The Worker's own `scheduled` handler, as the hourly Cron Trigger fires it. */
const runHourlyCron = (envOf: Env, at = Date.now()) => runCron(HOURLY_CRON, envOf, at);

const keyIds = async () => {
  const a = await env.DB.prepare(
    "SELECT DISTINCT credentials_key_id AS k FROM connections WHERE credentials_key_id IS NOT NULL",
  ).all<{ k: string }>();
  const b = await env.DB.prepare("SELECT DISTINCT key_id AS k FROM oauth_states").all<{ k: string }>();
  return { connections: a.results.map((r) => r.k), states: b.results.map((r) => r.k) };
};

// docs/key-rotation.md, end to end: add key → deploy → re-wrap → retire.
describe("key rotation runbook", () => {
  it("re-wraps every ciphertext under the new key, after which the old key can be retired", async () => {
    const { tokens } = await seededSession();
    const token = tokens.access_token;
    const v1 = deployed(K1);

    // Before: credentials and an in-flight authorization request under k1.
    const done = await connectWith(v1, token);
    const finished = await completeWith(v1, token, done.location);
    expect(finished.status).toBe(200);
    const connectionId = done.start.connection.id;
    const inFlight = await connectWith(v1, token);
    expect(await keyIds()).toEqual({ connections: ["k1"], states: ["k1"] });

    // 1. Add the key first in the list and deploy: new writes use k2, k1 still decrypts.
    const v2 = deployed(`${K2},${K1}`);
    expect((await send(v2, token, `/api/v1/dev/connections/${connectionId}/refresh`, { method: "POST" })).status).toBe(
      200,
    );

    // 2. The hourly cron re-wraps.
    await runHourlyCron(v2);
    expect(await keyIds()).toEqual({ connections: ["k2"], states: ["k2"] });
    const row = (await rawConnection(connectionId)) as Record<string, string>;
    expect(row.access_token_enc).toMatch(/^v1\.k2\./);
    expect(row.refresh_token_enc).toMatch(/^v1\.k2\./);
    const [rewrapped] = (
      await env.DB.prepare("SELECT details FROM audit_events WHERE action = 'credentials.rewrapped'").all<{
        details: string;
      }>()
    ).results;
    expect(JSON.parse(rewrapped?.details ?? "{}")).toMatchObject({ active_key_id: "k2", failed: 0 });

    // 3. Retire k1: with only k2 everything still opens.
    const v3 = deployed(K2);
    const refreshed = await send(v3, token, `/api/v1/dev/connections/${connectionId}/refresh`, {
      method: "POST",
      json: { force: true },
    });
    expect(refreshed.status).toBe(200);
    expect(((await refreshed.json()) as { refreshed: boolean }).refreshed).toBe(true);
    const late = await completeWith(v3, token, inFlight.location);
    expect(late.status).toBe(200);
    const k2 = await createKeyring(K2);
    const opened = await k2.decrypt(
      ((await rawConnection(connectionId)) as Record<string, string>).refresh_token_enc as string,
      {
        userId: tokens.user.id,
        connectionId,
        field: "refresh_token",
      },
    );
    expect(opened).toMatch(/^R0\./);

    // Retiring k1 before the re-wrap would have failed closed, never silently:
    const k1Only = deployed(K1);
    const refused = await send(k1Only, token, `/api/v1/dev/connections/${connectionId}/refresh`, {
      method: "POST",
      json: { force: true },
    });
    expect(refused.status).toBe(503);
    expect((await problem(refused)).code).toBe("unavailable");
  });

  it("works in bounded batches and reports what remains", async () => {
    const { tokens } = await seededSession();
    const v1 = deployed(`k9:${key()}`);
    for (let i = 0; i < 3; i++) {
      const c = await connectWith(v1, tokens.access_token);
      await completeWith(v1, tokens.access_token, c.location);
    }
    // Storage is shared within this file: keep the earlier test's keys too.
    const keys = `k10:${key()},${v1.ENCRYPTION_KEYS},${K2},${K1}`;
    const keyring = await createKeyring(keys);
    const db = createDb(env.DB);
    const log = createLogger("silent");
    const first = await rewrapCredentials(db, keyring, log, new Date(), { batchSize: 2, maxRows: 2 });
    expect(first).toMatchObject({ connections: 2, remaining: true, failed: 0 });
    const second = await rewrapCredentials(db, keyring, log, new Date(), { batchSize: 2, maxRows: 100 });
    expect(second.connections).toBeGreaterThanOrEqual(1);
    expect(second).toMatchObject({ remaining: false, failed: 0 });
    expect(await keyIds()).toEqual({ connections: ["k10"], states: ["k10"] });
  });
});

describe("hourly credential health", () => {
  it("warns once when the refresh token nears its 7-day end, then requires re-auth before it dies", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    const expireIn = async (ms: number) =>
      env.DB.prepare("UPDATE connections SET refresh_token_expires_at = ? WHERE id = ?")
        .bind(Date.now() + ms, connection.id)
        .run();
    const get = async () =>
      (await (await send(env, tokens.access_token, `/api/v1/connections/${connection.id}`)).json()) as ConnectionJson;

    await expireIn(3 * DAY);
    await runHourlyCron(env);
    expect(await auditFor("connection.reauth_due", connection.id)).toHaveLength(0);

    await expireIn(DAY); // inside the 48-hour warning window
    expect(await get()).toMatchObject({ status: "active", reauth_recommended: true });
    await runHourlyCron(env);
    await runHourlyCron(env);
    const warned = await auditFor("connection.reauth_due", connection.id);
    expect(warned).toHaveLength(1);
    expect(warned[0]?.user_id).toBe(tokens.user.id);

    await expireIn(50 * 60_000); // would die before the next hourly run
    await runHourlyCron(env);
    expect(await get()).toMatchObject({ status: "reauth_required", last_error: { code: "reauth_required" } });
    const [flagged] = await auditFor("connection.reauth_required", connection.id);
    expect(flagged?.details.reason).toBe("refresh_token_expiring");
  });

  it("purges abandoned pending connections and spent states after a day", async () => {
    const { tokens } = await seededSession();
    const old = await connectWith(env, tokens.access_token);
    await env.DB.prepare("UPDATE connections SET created_at = ? WHERE id = ?")
      .bind(Date.now() - 2 * DAY, old.start.connection.id)
      .run();
    await env.DB.prepare("UPDATE oauth_states SET expires_at = ? WHERE connection_id = ?")
      .bind(Date.now() - 2 * DAY, old.start.connection.id)
      .run();
    // An equally old pending connection with a live authorization request (e.g. resumed) stays.
    const resumed = await connectWith(env, tokens.access_token);
    await env.DB.prepare("UPDATE connections SET created_at = ? WHERE id = ?")
      .bind(Date.now() - 2 * DAY, resumed.start.connection.id)
      .run();
    const active = await connectSandbox(tokens.access_token);
    await runHourlyCron(env);
    expect(await rawConnection(old.start.connection.id)).toBeNull();
    expect(await rawConnection(resumed.start.connection.id)).not.toBeNull();
    expect(await rawConnection(active.id)).not.toBeNull();
    // D1 alone says which connections are the user's; the home keeps the purged one's id as a
    // tombstone, so nothing late can write data for it.
    const buried = await homeSql<{ id: string }>(tokens.user.id, "SELECT id FROM deleted_connections");
    expect(buried.map((r) => r.id)).toEqual([old.start.connection.id]);
  });
});
