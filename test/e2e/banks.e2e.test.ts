import { describe, expect, inject, it } from "vitest";
import { body, client, newUser, type Run, syncNow } from "./support";

const base = inject("baseUrl");
const { send } = client(base);

interface Connection {
  id: string;
  provider: string;
  institution_id: string | null;
  status: string;
  last_error: { code: string } | null;
  warnings: { code: string; message: string; reauth: boolean }[];
  consecutive_failures: number;
  cooldown_until: string | null;
  credentials_expire_at: string | null;
  consent_expires_at: string | null;
  reauth_recommended: boolean;
}
interface Started {
  connection: Connection;
  authorization_url: string | null;
  state: string | null;
  expires_in: number | null;
}
interface HandOff {
  state: string;
  code?: string;
  error?: string;
}
interface Account {
  id: string;
  connection_id: string;
  type: string;
  subtype: string;
  classification: string;
  currency: string;
  balances: { current: string | null; available: string | null; as_of: string };
}
interface Tx {
  id: string;
  account_id: string;
  status: string;
  amount: string;
  currency: string;
}
interface Problem {
  code: string;
  retry_at?: string;
}

const DAY_MS = 86_400_000;
const DECIMAL = /^-?\d+(\.\d+)?$/;
const SANDBOX_BANK = "SANDBOXFINANCE_SFIN0000";

/** A sandbox login of its own: a user's connections to one bank with one login would share (relink) accounts. */
const freshLogin = (tag: string) => `e2e-${tag}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** A problem answer: its status and code. */
async function problem(res: Response, status: number, code: string): Promise<Problem> {
  const p = await body<Problem>(res, status);
  expect(p.code).toBe(code);
  return p;
}

const get = async <T>(token: string, path: string) => body<T>(await send(path, { token }));
const connection = (token: string, id: string) => get<Connection>(token, `/api/v1/connections/${id}`);
const accountsOf = async (token: string, id: string) =>
  (await get<{ accounts: Account[] }>(token, `/api/v1/accounts?connection_id=${id}`)).accounts;
/** Every transaction of an account, page after page. */
async function transactionsOf(token: string, accountId: string) {
  const all: Tx[] = [];
  for (let cursor = ""; ; ) {
    const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const page = await get<{ transactions: Tx[]; next_cursor: string | null }>(
      token,
      `/api/v1/accounts/${accountId}/transactions?limit=500${query}`,
    );
    all.push(...page.transactions);
    if (!page.next_cursor) return all;
    cursor = page.next_cursor;
  }
}

/**
 * The user's change feed from `cursor` (or the start), every page until `has_more` is false,
 * keeping only the changes of `accounts` (a user's other connections may sync meanwhile).
 */
async function feedOf(token: string, accounts: { id: string }[], cursor?: string) {
  const mine = new Set(accounts.map((a) => a.id));
  const seen = { added: [] as Tx[], modified: [] as Tx[], removed: [] as { id: string; account_id: string }[] };
  let next = cursor ?? "";
  for (;;) {
    const query = next ? `&cursor=${encodeURIComponent(next)}` : "";
    const page = await get<{
      added: Tx[];
      modified: Tx[];
      removed: { id: string; account_id: string }[];
      next_cursor: string;
      has_more: boolean;
    }>(token, `/api/v1/transactions/sync?count=500${query}`);
    seen.added.push(...page.added.filter((t) => mine.has(t.account_id)));
    seen.modified.push(...page.modified.filter((t) => mine.has(t.account_id)));
    seen.removed.push(...page.removed.filter((t) => mine.has(t.account_id)));
    next = page.next_cursor;
    if (!page.has_more) return { ...seen, cursor: next };
  }
}

/** POST /api/v1/connections, answered 201. */
async function start(token: string, json: Record<string, unknown>) {
  return body<Started>(await send("/api/v1/connections", { method: "POST", token, json }), 201);
}

/**
 * What the browser does at the provider's (or the bank's) consent page: a 302 back to our
 * callback, whose hand-off the app reads as JSON.
 */
async function consentAt(authorizationUrl: string | null, path: string): Promise<{ location: URL; handOff: HandOff }> {
  expect(authorizationUrl?.startsWith(`${base}${path}`), String(authorizationUrl)).toBe(true);
  const page = await send(authorizationUrl as string);
  expect(page.status, await page.clone().text()).toBe(302);
  const location = new URL(page.headers.get("Location") as string);
  expect(`${location.origin}${location.pathname}`).toBe(`${base}/api/v1/connections/callback`);
  const handOff = await body<HandOff>(await send(location.href, { headers: { Accept: "application/json" } }));
  return { location, handOff };
}

/** The app completes the connection with the hand-off, under the user's access token. */
async function complete(token: string, handOff: HandOff) {
  const res = await send("/api/v1/connections/callback", { method: "POST", token, json: handOff });
  return (await body<{ connection: Connection }>(res)).connection;
}

/** Connects the sandbox bank through its consent page; the connection as completed. */
async function connectBank(token: string, extra: Record<string, unknown>) {
  const started = await start(token, { provider: "sandbox_gocardless", institution_id: SANDBOX_BANK, ...extra });
  expect(started.connection).toMatchObject({ status: "pending", institution_id: SANDBOX_BANK });
  const { location, handOff } = await consentAt(started.authorization_url, "/sandbox/gocardless/psd2/start/");
  // A bank sends `ref` (our state, then the proof only this redirect carries), not `code`: the
  // hand-off's code is that proof.
  expect(location.searchParams.get("ref")).toBe(`${started.state}.${handOff.code}`);
  expect(handOff).toEqual({ state: started.state, code: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
  const connected = await complete(token, handOff);
  expect(connected).toMatchObject({ id: started.connection.id, status: "active" });
  return connected;
}

/** A SimpleFIN bridge's setup token, from the development endpoint. */
async function setupToken(token: string, json: Record<string, unknown>) {
  const res = await send("/api/v1/dev/sandbox/simplefin/setup-token", { method: "POST", token, json });
  return (await body<{ setup_token: string }>(res)).setup_token;
}

/**
 * After a first sync: the connection's accounts (kinds as expected), their balances and
 * transactions, and the change feed carrying exactly those transactions. Returns the feed's cursor.
 */
async function readBack(token: string, id: string, expected: [string, string][]) {
  const accounts = await accountsOf(token, id);
  expect(accounts.map((a) => [a.type, a.classification]).sort()).toEqual([...expected].sort());
  const transactions: Tx[] = [];
  for (const a of accounts) {
    expect(a.connection_id).toBe(id);
    expect(a.balances.current).toMatch(DECIMAL);
    expect(Number.isNaN(Date.parse(a.balances.as_of))).toBe(false);
    const txs = await transactionsOf(token, a.id);
    expect(txs.length, `${a.type} transactions`).toBeGreaterThan(0);
    for (const t of txs) {
      expect(t).toMatchObject({ account_id: a.id, currency: a.currency });
      expect(t.amount).toMatch(DECIMAL);
    }
    transactions.push(...txs);
  }
  const ids = transactions.map((t) => t.id).sort();
  expect(new Set(ids).size).toBe(ids.length);
  const feed = await feedOf(token, accounts);
  expect(feed.added.map((t) => t.id).sort()).toEqual(ids);
  return { accounts, transactions, cursor: feed.cursor };
}

/** A re-sync of unchanged data: succeeded, 0 rows written, nothing in the feed since `cursor`. */
async function resyncWritesNothing(token: string, id: string, accounts: Account[], cursor: string) {
  const again = await syncNow(send, token, id);
  expect(again).toMatchObject({ status: "succeeded", error: null });
  expect(again.stats).toMatchObject({ rows_written: 0, transactions_added: 0, accounts_added: 0 });
  const { added, modified, removed } = await feedOf(token, accounts, cursor);
  expect({ added, modified, removed }).toEqual({ added: [], modified: [], removed: [] });
}

/** One user per provider, registered by whichever of its tests comes first. */
function lazyUser(tag: string) {
  let user: Promise<string> | undefined;
  return () => {
    user ??= newUser(base, tag);
    return user;
  };
}

// The three new sandbox providers over real HTTP against `wrangler dev`: each kind of link, a
// sync and what it wrote, a re-sync writing nothing, and the scenarios. The e2e server has no
// manual-sync spacing (global-setup.ts), so a test syncs a connection as often as it needs.
// Tests run concurrently (their syncs share the queue's batches), one user per provider; each
// connection has a sandbox login of its own, so no two share accounts.
describe.concurrent("GoCardless (bank consent) over HTTP", { timeout: 60_000 }, () => {
  const user = lazyUser("gocardless");

  it("connects the sandbox bank from the catalogue, syncs, and a re-sync writes 0 rows; the 5th sync in a day is refused", async () => {
    const token = await user();
    const { institutions } = await get<{ institutions: { id: string }[] }>(
      token,
      "/api/v1/institutions?provider=sandbox_gocardless&q=sandbox",
    );
    expect(institutions.map((i) => i.id)).toEqual([SANDBOX_BANK]);

    const bank = await connectBank(token, { login: freshLogin("default") });
    // The agreement's 90 days from the consent; not near its end.
    const days = (Date.parse(bank.consent_expires_at as string) - Date.now()) / DAY_MS;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThanOrEqual(90);
    expect(bank.reauth_recommended).toBe(false);

    const first = await syncNow(send, token, bank.id);
    expect(first).toMatchObject({ trigger: "manual", status: "succeeded", error: null });
    expect(first.stats?.accounts_added).toBe(2);
    expect(first.stats?.transactions_added).toBeGreaterThan(0);
    // An EUR current account and a GBP card (a liability).
    const { accounts, cursor } = await readBack(token, bank.id, [
      ["checking", "asset"],
      ["credit_card", "liability"],
    ]);
    expect(accounts.map((a) => [a.type, a.currency]).sort()).toEqual([
      ["checking", "EUR"],
      ["credit_card", "GBP"],
    ]);
    expect(await connection(token, bank.id)).toMatchObject({
      status: "active",
      last_error: null,
      consecutive_failures: 0,
    });

    await resyncWritesNothing(token, bank.id, accounts, cursor);

    // Two more syncs spend the connection's share of the bank's calls for the day (4); the fifth
    // is refused before any call: 429 with when to come back, and no run recorded.
    for (let n = 3; n <= 4; n++) expect((await syncNow(send, token, bank.id)).status, `sync ${n}`).toBe("succeeded");
    const spent = await send(`/api/v1/connections/${bank.id}/sync`, { method: "POST", token });
    const p = await problem(spent, 429, "provider_quota_exhausted");
    expect(Number(spent.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(Date.parse(p.retry_at as string)).toBeGreaterThan(Date.now());
    const { syncs } = await get<{ syncs: Run[] }>(token, `/api/v1/connections/${bank.id}/syncs`);
    expect(syncs.map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
    expect(await connection(token, bank.id)).toMatchObject({ status: "active", consecutive_failures: 0 });
  });

  it("quota: the bank's own 429 on the second sync skips the run; the connection waits (sync_too_soon)", async () => {
    const token = await user();
    const bank = await connectBank(token, { scenario: "quota", login: freshLogin("quota") });
    expect((await syncNow(send, token, bank.id)).status).toBe("succeeded");
    const second = await syncNow(send, token, bank.id);
    expect(second).toMatchObject({ status: "skipped", error: { code: "provider_rate_limited" } });
    const after = await connection(token, bank.id);
    expect(after).toMatchObject({ status: "active", consecutive_failures: 0 });
    expect(Date.parse(after.cooldown_until as string)).toBeGreaterThan(Date.now());
    // Until the bank's Retry-After, a manual sync is refused.
    const early = await send(`/api/v1/connections/${bank.id}/sync`, { method: "POST", token });
    const p = await problem(early, 429, "sync_too_soon");
    expect(Number(early.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(p.retry_at).toBe(after.cooldown_until);
  });

  it("short_consent: reauth recommended; reauthorizing keeps the connection and its accounts", async () => {
    const token = await user();
    // The sandbox's default login (the only one this user has), which reauthorizing reaches again.
    const bank = await connectBank(token, { scenario: "short_consent" });
    const left = Date.parse(bank.consent_expires_at as string) - Date.now();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(DAY_MS);
    expect(bank.reauth_recommended).toBe(true);
    expect((await syncNow(send, token, bank.id)).status).toBe("succeeded");
    const before = (await accountsOf(token, bank.id)).map((a) => a.id).sort();
    expect(before).toHaveLength(2);

    const re = await send(`/api/v1/connections/${bank.id}/reauthorize`, {
      method: "POST",
      token,
      json: { scenario: "default" },
    });
    const again = await body<Started>(re);
    expect(again.connection.id).toBe(bank.id);
    const { handOff } = await consentAt(again.authorization_url, "/sandbox/gocardless/psd2/start/");
    expect(handOff).toEqual({ state: again.state, code: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const back = await complete(token, handOff);
    expect(back).toMatchObject({ id: bank.id, status: "active", reauth_recommended: false });
    expect(Date.parse(back.consent_expires_at as string) - Date.now()).toBeGreaterThan(89 * DAY_MS);

    // The new requisition reaches the same accounts: the same ids, nothing duplicated.
    expect((await syncNow(send, token, bank.id)).status).toBe("succeeded");
    expect((await accountsOf(token, bank.id)).map((a) => a.id).sort()).toEqual(before);
  });

  it("missing_ids: transactions without ids sync, and a re-sync writes 0 rows", async () => {
    const token = await user();
    const bank = await connectBank(token, { scenario: "missing_ids", login: freshLogin("missing") });
    const first = await syncNow(send, token, bank.id);
    expect(first.status).toBe("succeeded");
    expect(first.stats?.transactions_added).toBeGreaterThan(0);
    const { accounts, cursor } = await readBack(token, bank.id, [
      ["checking", "asset"],
      ["credit_card", "liability"],
    ]);
    await resyncWritesNothing(token, bank.id, accounts, cursor);
  });
});

describe.concurrent("SimpleFIN (setup token) over HTTP", { timeout: 60_000 }, () => {
  const user = lazyUser("simplefin");

  it("claims a setup token once, syncs a checking account and a card, and a re-sync writes 0 rows", async () => {
    const token = await user();
    const setup = await setupToken(token, { login: freshLogin("simplefin") });
    const started = await start(token, { provider: "sandbox_simplefin", setup_token: setup });
    expect(started).toMatchObject({ authorization_url: null, state: null, expires_in: null });
    expect(started.connection).toMatchObject({ provider: "sandbox_simplefin", status: "active" });
    expect(JSON.stringify(started)).not.toContain(setup);

    const claimed = await send("/api/v1/connections", {
      method: "POST",
      token,
      json: { provider: "sandbox_simplefin", setup_token: setup },
    });
    await problem(claimed, 409, "setup_token_claimed");

    const id = started.connection.id;
    const first = await syncNow(send, token, id);
    expect(first).toMatchObject({ status: "succeeded", error: null });
    expect(first.stats?.accounts_added).toBe(2);
    const { accounts, transactions, cursor } = await readBack(token, id, [
      ["checking", "asset"],
      ["credit_card", "liability"],
    ]);
    const card = accounts.find((a) => a.type === "credit_card") as Account;
    expect(transactions.some((t) => t.account_id === card.id && t.status === "pending")).toBe(true);
    expect(await connection(token, id)).toMatchObject({ status: "active", warnings: [], consecutive_failures: 0 });

    await resyncWritesNothing(token, id, accounts, cursor);
  });

  it("partial_errors: the bridge's errors show as the connection's warnings, and the accounts are there", async () => {
    const token = await user();
    const setup = await setupToken(token, { scenario: "partial_errors", login: freshLogin("partial") });
    const { connection: started } = await start(token, { provider: "sandbox_simplefin", setup_token: setup });
    expect((await syncNow(send, token, started.id)).status).toBe("succeeded");
    const got = await connection(token, started.id);
    expect(got.status).toBe("active");
    expect(got.warnings.length).toBeGreaterThan(0);
    for (const w of got.warnings) expect(w.message).toEqual(expect.any(String));
    expect((await accountsOf(token, started.id)).length).toBeGreaterThan(0);
  });

  it("refuses what is not a setup token (422 setup_token_invalid), leaving no connection", async () => {
    const token = await user();
    const res = await send("/api/v1/connections", {
      method: "POST",
      token,
      json: { provider: "sandbox_simplefin", setup_token: "bm90IGEgdXJs" },
    });
    await problem(res, 422, "setup_token_invalid");
  });
});

describe.concurrent("Alpaca (OAuth 2 without refresh token) over HTTP", { timeout: 60_000 }, () => {
  it("connects through the redirect, syncs positions and activities, and a re-sync writes 0 rows", async () => {
    const token = await newUser(base, "alpaca");
    const started = await start(token, { provider: "sandbox_alpaca", login: freshLogin("alpaca") });
    expect(started.connection.status).toBe("pending");
    const { location, handOff } = await consentAt(started.authorization_url, "/sandbox/alpaca/app/oauth/authorize");
    expect(location.searchParams.get("state")).toBe(started.state);
    expect(handOff).toEqual({ state: started.state, code: location.searchParams.get("code") });
    const alpaca = await complete(token, handOff);
    // No refresh token: nothing of ours expires, no consent to renew.
    expect(alpaca).toMatchObject({
      id: started.connection.id,
      status: "active",
      credentials_expire_at: null,
      consent_expires_at: null,
      reauth_recommended: false,
    });

    const first = await syncNow(send, token, alpaca.id);
    expect(first).toMatchObject({ status: "succeeded", error: null });
    expect(first.stats?.holdings_upserted).toBeGreaterThan(0);
    const { accounts, cursor } = await readBack(token, alpaca.id, [["brokerage", "asset"]]);
    const holdings = (
      await get<{ holdings: { symbol: string | null; quantity: string; market_value: string | null }[] }>(
        token,
        `/api/v1/accounts/${accounts[0]?.id}/holdings`,
      )
    ).holdings;
    expect(holdings).toHaveLength(first.stats?.holdings_upserted as number);
    for (const h of holdings) expect(h.quantity).toMatch(DECIMAL);

    await resyncWritesNothing(token, alpaca.id, accounts, cursor);
    // A healthy connection has nothing to reauthorize.
    const re = await send(`/api/v1/connections/${alpaca.id}/reauthorize`, { method: "POST", token, json: {} });
    await problem(re, 409, "reauth_not_needed");
  });
});

describe.concurrent("bad input around the bank links answers 4xx", { timeout: 60_000 }, () => {
  it("the bank catalogue, connecting, the setup-token endpoint and the callback", async () => {
    const token = await newUser(base, "banks-bad");
    for (const query of [
      "provider=sandbox_simplefin",
      "provider=sandbox_gocardless&country=GBR",
      "provider=sandbox_gocardless&cursor=zz",
    ]) {
      await problem(await send(`/api/v1/institutions?${query}`, { token }), 422, "validation_failed");
    }
    // At most 5 connects a minute per user: four refusals and one pending connection.
    for (const json of [
      { provider: "sandbox_gocardless" },
      { provider: "sandbox_gocardless", institution_id: "NOPE_BANK0000" },
      { provider: "sandbox_simplefin" },
      { provider: "sandbox_alpaca", scenario: "quota" },
    ]) {
      const res = await send("/api/v1/connections", { method: "POST", token, json });
      await problem(res, 422, "validation_failed");
    }
    await problem(
      await send("/api/v1/dev/sandbox/simplefin/setup-token", { method: "POST", token, json: { scenario: "nope" } }),
      422,
      "validation_failed",
    );
    await problem(
      await send("/api/v1/connections/callback?ref=nope", { headers: { Accept: "application/json" } }),
      400,
      "invalid_state",
    );

    // A bank connection whose consent is not given yet: nothing to sync, and completing it without
    // the proof the bank's redirect carries is refused without spending the state (the person can
    // still finish at the bank): its initiator alone cannot complete a consent someone else gives.
    const pending = await start(token, { provider: "sandbox_gocardless", institution_id: SANDBOX_BANK });
    const id = pending.connection.id;
    await problem(await send(`/api/v1/connections/${id}/sync`, { method: "POST", token }), 409, "connection_not_ready");
    const early = await send("/api/v1/connections/callback", {
      method: "POST",
      token,
      json: { state: pending.state, code: "consent" },
    });
    await problem(early, 400, "authorization_failed");
    expect(await connection(token, id)).toMatchObject({ status: "pending" });
    const { handOff } = await consentAt(pending.authorization_url, "/sandbox/gocardless/psd2/start/");
    expect(await complete(token, handOff)).toMatchObject({ id, status: "active" });
  });
});
