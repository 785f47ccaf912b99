import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src";
import { createKeyring } from "../../src/crypto/keyring";
import { sha256Hex } from "../../src/crypto/random";
import { SCENARIOS } from "../../src/providers/sandbox/scenarios";
import {
  auditFor,
  authorize,
  type ConnectionJson,
  callbackGet,
  connectSandbox,
  rawConnection,
  startConnect,
  started,
} from "../support/connections";
import { call, problem } from "../support/http";
import { authed } from "../support/identity";
import { productionEnv } from "../support/production";
import { seededSession } from "../support/seed";

const ctx = () => ({ waitUntil() {}, passThroughOnException() {}, props: {} }) as unknown as ExecutionContext;

/** Every row of every table, as text: what someone looking at D1 directly would see. */
async function dumpDatabase(): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all<{ name: string }>();
  const parts: string[] = [];
  for (const { name } of tables.results) {
    const rows = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
    parts.push(JSON.stringify(rows.results));
  }
  return parts.join("\n");
}

const postCallback = (token: string, body: unknown) =>
  authed(token, "/api/v1/connections/callback", { method: "POST", json: body });

describe("GET /api/v1/providers", () => {
  it("lists every provider with its kind of link; those without credentials are shown unconfigured", async () => {
    const { tokens } = await seededSession();
    const res = await authed(tokens.access_token, "/api/v1/providers");
    expect(res.status).toBe(200);
    const { providers } = (await res.json()) as { providers: Record<string, unknown>[] };
    const by = new Map(providers.map((p) => [p.slug, p]));
    expect([...by.keys()]).toEqual([
      "schwab",
      "alpaca",
      "gocardless",
      "simplefin",
      "sandbox",
      "sandbox_alpaca",
      "sandbox_gocardless",
      "sandbox_simplefin",
    ]);
    expect(by.get("sandbox")).toEqual({
      slug: "sandbox",
      name: "Sandbox (simulated Schwab)",
      auth_type: "oauth2",
      countries: [],
      needs_institution: false,
      configured: true,
      scenarios: [...SCENARIOS],
    });
    expect(by.get("schwab")).toMatchObject({ auth_type: "oauth2", configured: false, countries: ["US"] });
    expect(by.get("alpaca")).toMatchObject({ auth_type: "oauth2", configured: false });
    expect(by.get("gocardless")).toMatchObject({
      auth_type: "bank_consent",
      configured: false,
      needs_institution: true,
    });
    // SimpleFIN needs no app credentials: the person brings a setup token.
    expect(by.get("simplefin")).toMatchObject({ auth_type: "setup_token", configured: true, needs_institution: false });
    expect(by.get("sandbox_gocardless")).toMatchObject({ auth_type: "bank_consent", configured: true });
    expect(by.get("sandbox_gocardless")?.countries).toContain("GB");
    expect((await call("/api/v1/providers")).status).toBe(401);
  });

  it("offers Schwab once both client credentials are set, and refuses half a configuration", async () => {
    const { tokens } = await seededSession();
    const headers = { Authorization: `Bearer ${tokens.access_token}`, "Content-Type": "application/json" };
    const withSchwab = { ...env, SCHWAB_CLIENT_ID: "app-key-123", SCHWAB_CLIENT_SECRET: "app-secret-456" };
    const list = await worker.fetch(new Request("https://x.test/api/v1/providers", { headers }), withSchwab, ctx());
    const { providers } = (await list.json()) as { providers: { slug: string; configured: boolean }[] };
    expect(providers.find((p) => p.slug === "schwab")?.configured).toBe(true);

    // Connecting to Schwab needs no network until the callback: the URL is Schwab's own.
    const res = await worker.fetch(
      new Request("https://x.test/api/v1/connections", {
        method: "POST",
        headers,
        body: JSON.stringify({ provider: "schwab", alias: "Brokerage" }),
      }),
      withSchwab,
      ctx(),
    );
    expect(res.status).toBe(201);
    const body = (await res.json()) as { authorization_url: string; state: string };
    const url = new URL(body.authorization_url);
    expect(url.origin + url.pathname).toBe("https://api.schwabapi.com/v1/oauth/authorize");
    expect(url.searchParams.get("client_id")).toBe("app-key-123");
    expect(url.searchParams.get("redirect_uri")).toBe("http://localhost:8787/api/v1/connections/callback");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("state")).toBe(body.state);
    expect(url.searchParams.has("scenario")).toBe(false);

    const half = await worker.fetch(
      new Request("https://x.test/api/v1/providers", { headers }),
      { ...env, SCHWAB_CLIENT_ID: "app-key-123" },
      ctx(),
    );
    expect(half.status).toBe(503);
    expect((await problem(half)).code).toBe("misconfigured");
  });
});

describe("in production", () => {
  it("the sandbox is not mounted or offered, and the dev refresh route is 404", async () => {
    const { tokens } = await seededSession();
    const prod = productionEnv();
    const sandbox = await worker.fetch(
      new Request("https://x.test/sandbox/v1/oauth/authorize?client_id=ledgerlink-sandbox"),
      prod,
      ctx(),
    );
    expect(sandbox.status).toBe(404);
    expect((await problem(sandbox)).code).toBe("not_found");
    const token = await worker.fetch(
      new Request("https://x.test/sandbox/v1/oauth/token", { method: "POST" }),
      prod,
      ctx(),
    );
    expect(token.status).toBe(404);
    // 404 before authentication: the route does not exist in production.
    const refresh = await worker.fetch(
      new Request("https://x.test/api/v1/dev/connections/con_x/refresh", {
        method: "POST",
        headers: { Authorization: `Bearer ${tokens.access_token}` },
      }),
      prod,
      ctx(),
    );
    expect(refresh.status).toBe(404);
  });
});

describe("connecting through the sandbox's redirect flow", () => {
  it("creates a pending connection with a PKCE S256 authorization URL and a 10-minute state", async () => {
    const { tokens } = await seededSession();
    const start = await started(tokens.access_token, { alias: "  My sandbox  ", scenario: "default", login: "ada" });
    expect(start.expires_in).toBe(600);
    expect(start.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(start.connection).toMatchObject({
      provider: "sandbox",
      alias: "My sandbox",
      status: "pending",
      last_error: null,
      consecutive_failures: 0,
      credentials_expire_at: null,
      reauth_recommended: false,
    });
    const url = new URL(start.authorization_url);
    // Browser-facing: the public base URL, so `npm run dev` users can click it.
    expect(url.origin).toBe("http://localhost:8787");
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: "code",
      client_id: "ledgerlink-sandbox",
      redirect_uri: "http://localhost:8787/api/v1/connections/callback",
      state: start.state,
      code_challenge_method: "S256",
      scenario: "default",
      login: "ada",
    });
    expect(url.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // Stored as SHA-256 only, bound to the user and provider, 10 minutes, verifier encrypted.
    const row = await env.DB.prepare("SELECT * FROM oauth_states WHERE connection_id = ?")
      .bind(start.connection.id)
      .first<Record<string, string | number>>();
    expect(row?.state_hash).toBe(await sha256Hex(start.state));
    expect(row?.user_id).toBe(tokens.user.id);
    expect(row?.provider).toBe("sandbox");
    expect(Number(row?.expires_at) - Number(row?.created_at)).toBe(600_000);
    expect(String(row?.code_verifier_enc)).toMatch(/^v1\.[A-Za-z0-9_-]+\./);
    expect((await auditFor("connection.connect_started", start.connection.id))[0]?.outcome).toBe("success");
  });

  it("completes through the real redirect and marks the connection active", async () => {
    const { tokens } = await seededSession();
    const start = await started(tokens.access_token);
    const location = await authorize(start.authorization_url);
    expect(location.searchParams.get("state")).toBe(start.state);
    expect(location.searchParams.get("code")).toMatch(/^C0\./);
    // The GET callback hands the answer back and completes nothing.
    const handOff = await callbackGet(location);
    expect(handOff.status).toBe(200);
    expect(handOff.headers.get("Cache-Control")).toBe("no-store");
    expect(await handOff.json()).toEqual({ state: start.state, code: location.searchParams.get("code") });
    const pending = await authed(tokens.access_token, `/api/v1/connections/${start.connection.id}`);
    expect(((await pending.json()) as ConnectionJson).status).toBe("pending");
    const res = await postCallback(tokens.access_token, {
      state: start.state,
      code: location.searchParams.get("code"),
    });
    expect(res.status).toBe(200);
    const { connection } = (await res.json()) as { connection: ConnectionJson };
    expect(connection).toMatchObject({ id: start.connection.id, status: "active", last_error: null });
    const expiresIn = Date.parse(connection.credentials_expire_at as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(7 * 86_400_000 - 60_000); // Schwab: 7 days from the login
    expect(expiresIn).toBeLessThanOrEqual(7 * 86_400_000);
    const [connected] = await auditFor("connection.connected", connection.id);
    expect(connected).toMatchObject({ outcome: "success", user_id: tokens.user.id, actor_id: tokens.user.id });
    expect(connected?.details).toMatchObject({ provider: "sandbox", purpose: "connect" });

    const got = await authed(tokens.access_token, `/api/v1/connections/${connection.id}`);
    expect(await got.json()).toEqual(connection);
  });

  it("stores tokens only as keyring ciphertext: no token plaintext anywhere in D1", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token, { scenario: "rotating" });
    const row = (await rawConnection(connection.id)) as Record<string, string>;
    const keyring = await createKeyring(env.ENCRYPTION_KEYS);
    const aad = { userId: tokens.user.id, connectionId: connection.id };
    expect(row.access_token_enc).toMatch(new RegExp(`^v1\\.${keyring.activeKeyId}\\.`));
    expect(row.credentials_key_id).toBe(keyring.activeKeyId);
    const access = await keyring.decrypt(row.access_token_enc as string, { ...aad, field: "access_token" });
    const refresh = await keyring.decrypt(row.refresh_token_enc as string, { ...aad, field: "refresh_token" });
    // The sandbox's token formats (Schwab-like `I0.…@` / `R0.…@`).
    expect(access).toMatch(/^I0\./);
    expect(refresh).toMatch(/^R0\./);

    const dump = await dumpDatabase();
    for (const secret of [access, refresh, access.slice(3, 40), refresh.slice(3, 40)]) {
      expect(dump.includes(secret)).toBe(false);
    }
    expect(dump).not.toMatch(/"(I0|R0|C0)\.[A-Za-z0-9_-]{20,}/);
    // A ciphertext moved to another field or row does not open (AAD binding).
    await expect(keyring.decrypt(row.access_token_enc as string, { ...aad, field: "refresh_token" })).rejects.toThrow();
  });

  it("answers the browser with a page that completes nothing and never shows the alias", async () => {
    const { tokens } = await seededSession();
    const start = await started(tokens.access_token, { alias: "Alice's <b>bank</b> (do not trust)" });
    const location = await authorize(start.authorization_url);
    const page = await callbackGet(location, "text/html,application/xhtml+xml,*/*;q=0.8");
    expect(page.status).toBe(200);
    expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(page.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain("Return to the app");
    expect(html).not.toMatch(/bank|trust|Alice/);
    expect(html).not.toContain(start.connection.id);
    // No Accept at all (curl): the page too. Nothing was spent: the app can still complete.
    const bare = await call(location.pathname + location.search);
    expect(bare.headers.get("Content-Type")).toMatch(/^text\/html/);
    const done = await postCallback(tokens.access_token, {
      state: start.state,
      code: location.searchParams.get("code"),
    });
    expect(done.status).toBe(200);
    // Once completed, the hand-off is over: the page says so, with the same status as the JSON.
    const after = await callbackGet(location, "text/html");
    expect(after.status).toBe(400);
    expect(await after.text()).toContain("invalid_state");
    expect((await problem(await callbackGet(location))).code).toBe("invalid_state");
  });

  it("completes from an app with POST /callback", async () => {
    const { tokens } = await seededSession();
    const start = await started(tokens.access_token);
    const location = await authorize(start.authorization_url);
    const res = await postCallback(tokens.access_token, {
      code: location.searchParams.get("code"),
      state: location.searchParams.get("state"),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { connection: ConnectionJson }).connection.status).toBe("active");
    const [audit] = await auditFor("connection.connected", start.connection.id);
    expect(audit?.actor_id).toBe(tokens.user.id);
  });
});

describe("state protection (RFC 6749 §10.12)", () => {
  it("refuses a replayed state and audits it", async () => {
    const { tokens } = await seededSession();
    const start = await started(tokens.access_token);
    const location = await authorize(start.authorization_url);
    const body = { state: start.state, code: location.searchParams.get("code") };
    expect((await postCallback(tokens.access_token, body)).status).toBe(200);
    const replay = await postCallback(tokens.access_token, body);
    expect(replay.status).toBe(400);
    expect((await problem(replay)).code).toBe("invalid_state");
    const [refused] = await auditFor("connection.state_refused", start.connection.id);
    expect(refused).toMatchObject({ outcome: "denied", user_id: tokens.user.id });
    expect(refused?.details).toMatchObject({ reason: "used" });
  });

  it("refuses an expired state (10 minutes) and audits it", async () => {
    const { tokens } = await seededSession();
    const start = await started(tokens.access_token);
    const location = await authorize(start.authorization_url);
    await env.DB.prepare("UPDATE oauth_states SET expires_at = ? WHERE connection_id = ?")
      .bind(Date.now() - 1, start.connection.id)
      .run();
    expect((await problem(await callbackGet(location))).code).toBe("invalid_state");
    const res = await postCallback(tokens.access_token, {
      state: start.state,
      code: location.searchParams.get("code"),
    });
    expect((await problem(res)).code).toBe("invalid_state");
    const [refused] = await auditFor("connection.state_refused", start.connection.id);
    expect(refused?.details.reason).toBe("expired");
    const still = await authed(tokens.access_token, `/api/v1/connections/${start.connection.id}`);
    expect(((await still.json()) as ConnectionJson).status).toBe("pending");
  });

  it("refuses an unknown state and audits it", async () => {
    const { tokens } = await seededSession();
    const get = await call(`/api/v1/connections/callback?code=C0.x&state=${"z".repeat(43)}`, {
      headers: { Accept: "application/json" },
    });
    expect((await problem(get)).code).toBe("invalid_state");
    const res = await postCallback(tokens.access_token, { code: "C0.x", state: "z".repeat(43) });
    expect((await problem(res)).code).toBe("invalid_state");
    const row = await env.DB.prepare(
      "SELECT details, actor_id FROM audit_events WHERE action = 'connection.state_refused' AND json_extract(details, '$.reason') = 'unknown' ORDER BY occurred_at DESC",
    ).first<{ details: string; actor_id: string }>();
    expect(JSON.parse(row?.details ?? "{}")).toMatchObject({ reason: "unknown" });
    expect(row?.actor_id).toBe(tokens.user.id);
  });

  it("refuses another user's state on POST, audits it, and leaves it usable by its owner", async () => {
    const alice = await seededSession("alice");
    const mallory = await seededSession("mallory");
    const start = await started(alice.tokens.access_token);
    const location = await authorize(start.authorization_url);
    const body = { code: location.searchParams.get("code"), state: location.searchParams.get("state") };

    const stolen = await postCallback(mallory.tokens.access_token, body);
    expect(stolen.status).toBe(404);
    expect((await problem(stolen)).code).toBe("not_found");
    const [refused] = await auditFor("connection.state_refused", start.connection.id);
    expect(refused).toMatchObject({ user_id: alice.tokens.user.id, actor_id: mallory.tokens.user.id });
    expect(refused?.details).toMatchObject({ reason: "foreign" });

    const own = await postCallback(alice.tokens.access_token, body);
    expect(own.status).toBe(200);
    const list = await authed(mallory.tokens.access_token, "/api/v1/connections");
    expect(await list.json()).toEqual({ connections: [] });
  });

  it("refuses a code exchanged with the wrong PKCE verifier (code injection)", async () => {
    const { tokens } = await seededSession();
    const a = await started(tokens.access_token);
    const b = await started(tokens.access_token);
    const aLocation = await authorize(a.authorization_url);
    // A's code presented with B's state: the sandbox checks B's verifier against A's challenge.
    const injected = await postCallback(tokens.access_token, {
      code: aLocation.searchParams.get("code"),
      state: b.state,
    });
    expect(injected.status).toBe(400);
    expect((await problem(injected)).code).toBe("authorization_failed");
    const bNow = (await (
      await authed(tokens.access_token, `/api/v1/connections/${b.connection.id}`)
    ).json()) as ConnectionJson;
    expect(bNow.status).toBe("pending");
    expect(bNow.last_error?.code).toBe("authorization_failed");
    const [failed] = await auditFor("connection.connect_failed", b.connection.id);
    expect(failed?.outcome).toBe("failure");
    expect(failed?.details).toMatchObject({ kind: "reauth_required", http_status: 400 });
    // B's state was spent by the attempt; A's own flow still completes.
    const aDone = await postCallback(tokens.access_token, { state: a.state, code: aLocation.searchParams.get("code") });
    expect(aDone.status).toBe(200);
  });

  it("records a refusal at the provider (error=access_denied)", async () => {
    const { tokens } = await seededSession();
    const start = await started(tokens.access_token);
    const handOff = await call(`/api/v1/connections/callback?error=access_denied&state=${start.state}`, {
      headers: { Accept: "application/json" },
    });
    expect(await handOff.json()).toEqual({ state: start.state, error: "access_denied" });
    const res = await postCallback(tokens.access_token, { state: start.state, error: "access_denied" });
    expect(res.status).toBe(400);
    expect((await problem(res)).code).toBe("authorization_denied");
    const now = (await (
      await authed(tokens.access_token, `/api/v1/connections/${start.connection.id}`)
    ).json()) as ConnectionJson;
    expect(now).toMatchObject({ status: "pending", last_error: { code: "authorization_denied" } });
    expect((await auditFor("connection.authorization_denied", start.connection.id))[0]?.details.error).toBe(
      "access_denied",
    );
  });
});

describe("validation: bad input is a 4xx problem, never a 500", () => {
  it("refuses bad connect requests with 422", async () => {
    let { tokens } = await seededSession();
    const cases: [unknown, string, string][] = [
      [{}, "validation_failed", "provider"],
      [{ provider: "" }, "validation_failed", "provider"],
      [{ provider: 42 }, "validation_failed", "provider"],
      [{ provider: "plaid" }, "provider_not_available", "provider"],
      [{ provider: "schwab" }, "provider_not_configured", "provider"],
      [{ provider: "sandbox", scenario: "nope" }, "validation_failed", "scenario"],
      [{ provider: "sandbox", scenario: "quota" }, "validation_failed", "scenario"],
      [{ provider: "sandbox", institution_id: "SANDBOXFINANCE_SFIN0000" }, "validation_failed", "institution_id"],
      [{ provider: "sandbox", setup_token: "aGVsbG8=" }, "validation_failed", "setup_token"],
      [{ provider: "sandbox_gocardless" }, "validation_failed", "institution_id"],
      [{ provider: "sandbox_gocardless", institution_id: "NOPE_BANK" }, "validation_failed", "institution_id"],
      [{ provider: "sandbox_simplefin" }, "validation_failed", "setup_token"],
      [{ provider: "sandbox_simplefin", setup_token: "not base64 at all!" }, "setup_token_invalid", "setup_token"],
      [{ provider: "sandbox", login: "a b" }, "validation_failed", "login"],
      [{ provider: "sandbox", alias: "x".repeat(101) }, "validation_failed", "alias"],
      [{ provider: "sandbox", alias: "tab\there" }, "validation_failed", "alias"],
      [{ provider: "sandbox", alias: "   " }, "validation_failed", "alias"],
    ];
    for (const [i, [body, code, path]] of cases.entries()) {
      // Every attempt counts against the 5-per-minute connect limit: a fresh user every 4.
      if (i > 0 && i % 4 === 0) ({ tokens } = await seededSession());
      const res = await startConnect(tokens.access_token, body as Record<string, unknown>);
      expect(res.status, JSON.stringify(body)).toBe(422);
      const p = await problem(res);
      expect(p.code, JSON.stringify(body)).toBe(code);
      expect(p.errors?.map((e) => e.path)).toContain(path);
    }
    const raw = await authed(tokens.access_token, "/api/v1/connections", {
      method: "POST",
      body: "{nope",
      headers: { "Content-Type": "application/json" },
    });
    expect((await problem(raw)).code).toBe("malformed_json");
    expect((await call("/api/v1/connections", { method: "POST", json: { provider: "sandbox" } })).status).toBe(401);
  });

  it("refuses malformed callbacks with 422 (JSON or HTML)", async () => {
    const { tokens } = await seededSession();
    const missing = await call("/api/v1/connections/callback?state=abc", { headers: { Accept: "application/json" } });
    expect(missing.status).toBe(422);
    expect((await problem(missing)).errors).toEqual([{ path: "query.code", message: "is required" }]);
    const noState = await call("/api/v1/connections/callback?code=abc", { headers: { Accept: "application/json" } });
    expect((await problem(noState)).code).toBe("validation_failed");
    const html = await call("/api/v1/connections/callback?code=abc");
    expect(html.status).toBe(422);
    expect(html.headers.get("Content-Type")).toMatch(/^text\/html/);
    const long = await call(`/api/v1/connections/callback?code=a&state=${"s".repeat(600)}`, {
      headers: { Accept: "application/json" },
    });
    expect(long.status).toBe(422);
    for (const body of [
      {},
      { state: "x" },
      { code: "x" },
      { code: "", state: "x" },
      { code: 1, state: 2 },
      { code: "a", error: "access_denied", state: "x" },
    ]) {
      const res = await postCallback(tokens.access_token, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
    expect(
      (await call("/api/v1/connections/callback", { method: "POST", json: { code: "a", state: "b" } })).status,
    ).toBe(401);
  });
});
