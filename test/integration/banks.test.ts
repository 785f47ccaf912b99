/**
 * Banks, cards and a second brokerage (issue 21), through each kind of link, against the
 * in-process simulators that speak each provider's real HTTP: GoCardless (bank consent),
 * SimpleFIN (setup token) and Alpaca (OAuth 2 without refresh).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditFor, type ConnectionJson, callbackPost, rawConnection } from "../support/connections";
import { HOURLY_CRON, runCron } from "../support/deps";
import { call, problem } from "../support/http";
import { authed, emailTo, outbox } from "../support/identity";
import { seededSession } from "../support/seed";
import { attempt, connectionRow, getJson, queuedRun, runsOf } from "../support/sync";

const runHourlyCron = (envOf: Env) => runCron(HOURLY_CRON, envOf, Date.now());

interface Account {
  id: string;
  type: string;
  subtype: string;
  classification: string;
  currency: string;
  balances: { current: string | null; available: string | null };
}
interface Tx {
  id: string;
  status: string;
  amount: string;
  currency: string;
}
interface Stats {
  rows_written: number;
  transactions_added: number;
  transactions_removed: number;
}

/** The connect body's answer. */
interface Started {
  connection: ConnectionJson & { consent_expires_at: string | null; institution_id: string | null };
  authorization_url: string | null;
  state: string | null;
}

async function start(token: string, body: Record<string, unknown>) {
  const res = await authed(token, "/api/v1/connections", { method: "POST", json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Started;
}

/** Follows the bank's (or Alpaca's) consent page like a browser, to our callback's hand-off. */
async function consentAt(authorizationUrl: string, prefix: string) {
  const url = new URL(authorizationUrl);
  expect(url.pathname.startsWith(prefix), url.pathname).toBe(true);
  const res = await call(url.pathname + url.search, { redirect: "manual" });
  expect(res.status, await res.clone().text()).toBe(302);
  const back = new URL(res.headers.get("Location") as string);
  expect(back.pathname).toBe("/api/v1/connections/callback");
  const handOff = await call(back.pathname + back.search, { headers: { Accept: "application/json" } });
  expect(handOff.status, await handOff.clone().text()).toBe(200);
  return (await handOff.json()) as { state: string; code?: string; error?: string };
}

async function finish(token: string, handOff: { state: string; code?: string; error?: string }) {
  const res = await callbackPost(token, handOff);
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { connection: Started["connection"] }).connection;
}

/** Connects a GoCardless sandbox bank end to end. */
async function connectBank(token: string, scenario = "default", institution = "SANDBOXFINANCE_SFIN0000") {
  const started = await start(token, { provider: "sandbox_gocardless", institution_id: institution, scenario });
  expect(started.connection).toMatchObject({ status: "pending", institution_id: institution });
  const handOff = await consentAt(started.authorization_url as string, "/sandbox/gocardless/psd2/start/");
  // The hand-off's code is the proof the bank's redirect carried (`ref=<state>.<proof>`).
  expect(handOff).toEqual({ state: started.state, code: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
  return finish(token, handOff);
}

async function setupToken(token: string, scenario = "default", login?: string) {
  const res = await authed(token, "/api/v1/dev/sandbox/simplefin/setup-token", {
    method: "POST",
    json: { scenario, ...(login ? { login } : {}) },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { setup_token: string }).setup_token;
}

/** One sync attempt, delivered to the real queue consumer; the run as the home recorded it. */
async function syncOnce(connectionId: string, trigger: "scheduled" | "manual" = "manual") {
  const message = await queuedRun(connectionId, trigger);
  await attempt(message, 1);
  const run = (await runsOf(connectionId)).find((r) => r.id === message.run_id);
  return { ...run, stats: run?.stats ? (JSON.parse(String(run.stats)) as Stats) : null };
}

const accountsOf = async (token: string, connectionId: string) =>
  (await getJson<{ accounts: Account[] }>(token, `/api/v1/accounts?connection_id=${connectionId}`)).body.accounts;

const transactionsOf = async (token: string, accountId: string) =>
  (await getJson<{ transactions: Tx[] }>(token, `/api/v1/accounts/${accountId}/transactions?limit=500`)).body
    .transactions;

describe("GoCardless (bank consent) through the sandbox", () => {
  it("lists the banks from the stored catalogue, by country and name", async () => {
    const { tokens } = await seededSession();
    const gb = await authed(tokens.access_token, "/api/v1/institutions?provider=sandbox_gocardless&country=gb");
    expect(gb.status).toBe(200);
    const { institutions } = (await gb.json()) as { institutions: { id: string; max_access_valid_for_days: number }[] };
    expect(institutions.map((i) => i.id)).toContain("REVOLUT_REVOGB21");
    expect(institutions.map((i) => i.id)).not.toContain("ING_INGBNL2A");
    expect(institutions.find((i) => i.id === "REVOLUT_REVOGB21")?.max_access_valid_for_days).toBe(180);
    const named = (await (
      await authed(tokens.access_token, "/api/v1/institutions?provider=sandbox_gocardless&q=sandbox")
    ).json()) as { institutions: { id: string }[] };
    expect(named.institutions.map((i) => i.id)).toEqual(["SANDBOXFINANCE_SFIN0000"]);
    // Searching again reads D1 only: the catalogue was fetched once.
    const rows = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM institutions WHERE provider = 'sandbox_gocardless'",
    ).first<{
      n: number;
    }>();
    expect(rows?.n).toBeGreaterThan(2);
    for (const bad of [
      "provider=sandbox",
      "provider=sandbox_gocardless&country=GBR",
      "provider=sandbox_gocardless&cursor=zz",
    ]) {
      const res = await authed(tokens.access_token, `/api/v1/institutions?${bad}`);
      expect(res.status, bad).toBe(422);
    }
  });

  it("connects through the bank's consent, syncs EUR and GBP accounts, and a re-sync writes nothing", async () => {
    const { tokens } = await seededSession();
    const connection = await connectBank(tokens.access_token);
    expect(connection.status).toBe("active");
    // The agreement's access days (the sandbox bank: 90) from the person's acceptance.
    const days = (Date.parse(connection.consent_expires_at as string) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThanOrEqual(90);
    // The requisition id is the credential: sealed, never in plain text.
    const raw = await rawConnection(connection.id);
    expect(String(raw?.access_token_enc)).toMatch(/^v1\./);

    const first = await syncOnce(connection.id);
    expect(first.status).toBe("succeeded");
    const accounts = await accountsOf(tokens.access_token, connection.id);
    // The sandbox bank: an EUR current account and a GBP card (a liability, in the bank's sign).
    expect(accounts.map((a) => [a.currency, a.type, a.classification]).sort()).toEqual([
      ["EUR", "checking", "asset"],
      ["GBP", "credit_card", "liability"],
    ]);
    const txs = await transactionsOf(tokens.access_token, accounts[0]?.id as string);
    expect(txs.length).toBeGreaterThan(0);
    expect(new Set(txs.map((t) => t.currency))).toEqual(new Set([accounts[0]?.currency]));

    const again = await syncOnce(connection.id);
    expect(again.status).toBe("succeeded");
    expect(again.stats?.rows_written).toBe(0);
  });

  it("missing_ids: transactions without an id get stable derived ones (a re-sync writes 0 rows)", async () => {
    const { tokens } = await seededSession();
    const connection = await connectBank(tokens.access_token, "missing_ids");
    expect((await syncOnce(connection.id)).stats?.transactions_added).toBeGreaterThan(0);
    expect((await syncOnce(connection.id)).stats?.rows_written).toBe(0);
  });

  it("keeps within the connection's daily share: the fifth sync in a day answers 429 before any call", async () => {
    const { tokens } = await seededSession();
    const connection = await connectBank(tokens.access_token);
    for (let n = 0; n < 4; n++) expect((await syncOnce(connection.id)).status).toBe("succeeded");
    const res = await authed(tokens.access_token, `/api/v1/connections/${connection.id}/sync`, { method: "POST" });
    expect(res.status).toBe(429);
    const p = await problem(res);
    expect(p.code).toBe("provider_quota_exhausted");
    const retryAt = Date.parse(String(p.retry_at));
    expect(retryAt - Date.now()).toBeGreaterThan(23 * 3_600_000);
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(23 * 3600);
    // A scheduled run meanwhile is skipped in the home, not sent to the bank, and not a failure.
    const run = await syncOnce(connection.id, "scheduled");
    expect(run).toMatchObject({ status: "skipped", error_code: "provider_quota_exhausted" });
    const row = await connectionRow(connection.id);
    expect(row).toMatchObject({ status: "active", consecutive_failures: 0 });
    expect(Math.abs(Number(row?.next_sync_at) - retryAt)).toBeLessThan(5_000);
  });

  it("quota at the bank (its own 429): the run is deferred until the bank says, never failed", async () => {
    const { tokens } = await seededSession();
    const connection = await connectBank(tokens.access_token, "quota");
    expect((await syncOnce(connection.id)).status).toBe("succeeded");
    const second = await syncOnce(connection.id);
    expect(second).toMatchObject({ status: "skipped", error_code: "provider_rate_limited" });
    const row = await connectionRow(connection.id);
    expect(row).toMatchObject({ status: "active", consecutive_failures: 0 });
    expect(Number(row?.cooldown_until)).toBeGreaterThan(Date.now() + 3_600_000);
    const dead = await env.DB.prepare("SELECT COUNT(*) AS n FROM sync_dead_letters WHERE connection_id = ?")
      .bind(connection.id)
      .first<{ n: number }>();
    expect(dead?.n).toBe(0);
  });

  it("short_consent: the owner is told once, then the connection needs them, and reconnecting keeps the data", async () => {
    const { tokens } = await seededSession();
    const connection = await connectBank(tokens.access_token, "short_consent");
    const days = (Date.parse(connection.consent_expires_at as string) - Date.now()) / 86_400_000;
    expect(days).toBeLessThanOrEqual(1);
    expect(connection.reauth_recommended).toBe(true);
    await syncOnce(connection.id);
    const before = await accountsOf(tokens.access_token, connection.id);

    await runHourlyCron(env);
    await runHourlyCron(env);
    expect(await auditFor("connection.reauth_due", connection.id)).toHaveLength(1);
    const mail = await emailTo(tokens.user.email, /needs you by/);
    expect(mail.text).toMatch(/reconnect/i);
    expect((await outbox(tokens.user.email)).filter((m) => /needs you by/.test(m.subject))).toHaveLength(1);

    await env.DB.prepare("UPDATE connections SET consent_expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1000, connection.id)
      .run();
    await runHourlyCron(env);
    expect(await connectionRow(connection.id)).toMatchObject({ status: "reauth_required" });
    const [flagged] = await auditFor("connection.reauth_required", connection.id);
    expect(flagged?.details.reason).toBe("consent_expired");
    // Its data stays.
    expect(await accountsOf(tokens.access_token, connection.id)).toEqual(before);

    const re = await authed(tokens.access_token, `/api/v1/connections/${connection.id}/reauthorize`, {
      method: "POST",
      json: { scenario: "default" },
    });
    expect(re.status, await re.clone().text()).toBe(200);
    const { authorization_url } = (await re.json()) as { authorization_url: string };
    const back = await finish(
      tokens.access_token,
      await consentAt(authorization_url, "/sandbox/gocardless/psd2/start/"),
    );
    expect(back).toMatchObject({ id: connection.id, status: "active" });
    // A new requisition reaches the same accounts (by IBAN): the same ids, nothing duplicated.
    expect((await syncOnce(connection.id)).status).toBe("succeeded");
    expect((await accountsOf(tokens.access_token, connection.id)).map((a) => a.id).sort()).toEqual(
      before.map((a) => a.id).sort(),
    );
  });

  it("expired: the bank says the consent ended, so the connection needs re-authorization", async () => {
    const { tokens } = await seededSession();
    const connection = await connectBank(tokens.access_token, "expired");
    const run = await syncOnce(connection.id);
    expect(run).toMatchObject({ status: "failed", error_code: "reauth_required" });
    expect(await connectionRow(connection.id)).toMatchObject({ status: "reauth_required" });
  });

  it("a person who cancels at the bank: the hand-off says so and the connection stays pending", async () => {
    const { tokens } = await seededSession();
    const started = await start(tokens.access_token, {
      provider: "sandbox_gocardless",
      institution_id: "SANDBOXFINANCE_SFIN0000",
      scenario: "consent_rejected",
    });
    const handOff = await consentAt(started.authorization_url as string, "/sandbox/gocardless/psd2/start/");
    expect(handOff.error).toBeDefined();
    const res = await callbackPost(tokens.access_token, handOff);
    expect(res.status).toBe(400);
    expect((await problem(res)).code).toBe("authorization_denied");
    expect(await connectionRow(started.connection.id)).toMatchObject({ status: "pending" });
  });
});

describe("SimpleFIN (setup token) through the sandbox", () => {
  it("claims the token once, syncs a checking account and a card (a liability), and a re-sync writes nothing", async () => {
    const { tokens } = await seededSession();
    const token = await setupToken(tokens.access_token);
    const started = await start(tokens.access_token, { provider: "sandbox_simplefin", setup_token: token });
    expect(started).toMatchObject({ authorization_url: null, state: null, expires_in: null });
    expect(started.connection.status).toBe("active");
    expect(JSON.stringify(started)).not.toContain(token);
    // The access URL (with its password) is sealed, never stored or logged plainly.
    const raw = await rawConnection(started.connection.id);
    expect(JSON.stringify(raw)).not.toMatch(/https?:\/\//);

    const again = await authed(tokens.access_token, "/api/v1/connections", {
      method: "POST",
      json: { provider: "sandbox_simplefin", setup_token: token },
    });
    expect(again.status).toBe(409);
    const claimed = await problem(again);
    expect(claimed.code).toBe("setup_token_claimed");
    // SimpleFIN's protocol: tell the person a claimed token may be compromised.
    expect(claimed.detail).toMatch(/compromised.*disable it at your SimpleFIN Bridge/);

    const first = await syncOnce(started.connection.id);
    expect(first.status).toBe("succeeded");
    const accounts = await accountsOf(tokens.access_token, started.connection.id);
    expect(accounts.map((a) => a.type).sort()).toEqual(["checking", "credit_card"]);
    expect(accounts.find((a) => a.type === "credit_card")?.classification).toBe("liability");
    const card = accounts.find((a) => a.type === "credit_card") as Account;
    const txs = await transactionsOf(tokens.access_token, card.id);
    expect(txs.some((t) => t.status === "pending")).toBe(true);
    expect((await syncOnce(started.connection.id)).stats?.rows_written).toBe(0);
  });

  it("partial_errors: the bridge's errors show on the connection, and nothing is lost", async () => {
    const { tokens } = await seededSession();
    const token = await setupToken(tokens.access_token, "partial_errors");
    const { connection } = await start(tokens.access_token, { provider: "sandbox_simplefin", setup_token: token });
    expect((await syncOnce(connection.id)).status).toBe("succeeded");
    const got = (
      await getJson<ConnectionJson & { warnings: { code: string; message: string }[] }>(
        tokens.access_token,
        `/api/v1/connections/${connection.id}`,
      )
    ).body;
    expect(got.warnings.length).toBeGreaterThan(0);
    expect((await accountsOf(tokens.access_token, connection.id)).length).toBeGreaterThan(0);
  });

  it("quota: one request a sync (90 days, the bridge's cap), so the bridge's warning shows before it would cut us off", async () => {
    const { tokens } = await seededSession();
    const token = await setupToken(tokens.access_token, "quota");
    const { connection } = await start(tokens.access_token, { provider: "sandbox_simplefin", setup_token: token });
    const runs = [await syncOnce(connection.id), await syncOnce(connection.id), await syncOnce(connection.id)];
    expect(runs.map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    const got = (
      await getJson<ConnectionJson & { warnings: { code: string }[] }>(
        tokens.access_token,
        `/api/v1/connections/${connection.id}`,
      )
    ).body;
    expect(got.status).toBe("active");
    expect(got.warnings.map((w) => w.code)).toContain("quota");
  });

  it("a second connection's token refused, a malformed token refused; neither leaves a connection", async () => {
    const { tokens } = await seededSession();
    const bad = await authed(tokens.access_token, "/api/v1/connections", {
      method: "POST",
      json: { provider: "sandbox_simplefin", setup_token: "bm90IGEgdXJs" },
    });
    expect(bad.status).toBe(422);
    expect((await problem(bad)).code).toBe("setup_token_invalid");
    const list = (await getJson<{ connections: unknown[] }>(tokens.access_token, "/api/v1/connections")).body;
    expect(list.connections).toEqual([]);
  });
});

describe("Alpaca (OAuth 2, no refresh) through the sandbox", () => {
  it("connects, syncs positions and activities, and a re-sync writes nothing", async () => {
    const { tokens } = await seededSession();
    const started = await start(tokens.access_token, { provider: "sandbox_alpaca" });
    const connection = await finish(
      tokens.access_token,
      await consentAt(started.authorization_url as string, "/sandbox/alpaca/app/oauth/authorize"),
    );
    expect(connection).toMatchObject({ status: "active", credentials_expire_at: null, consent_expires_at: null });
    const raw = await rawConnection(connection.id);
    expect(raw?.refresh_token_enc).toBeNull();
    const first = await syncOnce(connection.id);
    expect(first.status).toBe("succeeded");
    const accounts = await accountsOf(tokens.access_token, connection.id);
    expect(accounts.every((a) => a.type === "brokerage")).toBe(true);
    const holdings = (
      await getJson<{ holdings: unknown[] }>(tokens.access_token, `/api/v1/accounts/${accounts[0]?.id}/holdings`)
    ).body.holdings;
    expect(holdings.length).toBeGreaterThan(0);
    expect((await syncOnce(connection.id)).stats?.rows_written).toBe(0);
  });

  it("revoked: the token stops working (30 minutes after the login), so the connection needs re-authorization", async () => {
    const { tokens } = await seededSession();
    const started = await start(tokens.access_token, { provider: "sandbox_alpaca", scenario: "revoked" });
    const connection = await finish(
      tokens.access_token,
      await consentAt(started.authorization_url as string, "/sandbox/alpaca/app/oauth/authorize"),
    );
    expect((await syncOnce(connection.id)).status).toBe("succeeded");
    const clock = (json: Record<string, unknown>) =>
      authed(tokens.access_token, "/api/v1/dev/sandbox/clock", { method: "POST", json });
    expect((await clock({ advance_seconds: 31 * 60 })).status).toBe(200);
    try {
      const run = await syncOnce(connection.id);
      expect(run).toMatchObject({ status: "failed", error_code: "reauth_required" });
      expect(await connectionRow(connection.id)).toMatchObject({ status: "reauth_required" });
    } finally {
      await clock({ reset: true });
    }
  });
});
