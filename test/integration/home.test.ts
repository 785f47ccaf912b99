import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { testClock } from "../../src/clock";
import { migrate } from "../../src/durable/migrate";
import { snake } from "../../src/home/ledger/columns";
import { LEDGER_TABLES } from "../../src/home/ledger/rows";
import { RESEND_AFTER_MS } from "../../src/home/ledger/run-store";
import { HOME_SCHEMA } from "../../src/home/steps";
import { FeedPage, TransactionsPage } from "../../src/wire/data";
import committedWrangler from "../../wrangler.toml?raw";
import { connectSandbox } from "../support/connections";
import { runCron } from "../support/deps";
import { homeOf, homeSql } from "../support/home";
import { call } from "../support/http";
import { seededSession } from "../support/seed";
import { attempt, dataCounts, queuedRun, runsOf, SYNC_CRON, settled } from "../support/sync";

// The user's home object (docs/design.md "Where data lives"): its schema, its outbox of sync
// runs, and reads of one's own data that never reach D1.

const HOUR = 3_600_000;

afterEach(() => testClock.reset());

describe("the home's schema", () => {
  it("an old, populated Gate home becomes a Home in place and loses nothing", async () => {
    const userId = `usr_upgrade_${crypto.randomUUID()}`;
    const stub = homeOf(userId);
    const now = Date.now();
    // The object as the Gate left it (wrangler.toml renames the class; its storage stays): schema
    // v4, with a revoked session, a ledger (a connection, an account, a transaction), a queued run
    // from before runs carried deadlines, and the limiter tables a user's Gate never used.
    await runInDurableObject(stub, async (_, state) => {
      await state.storage.deleteAll();
      expect(migrate(state.storage, HOME_SCHEMA.slice(0, 4))).toBe(4);
      const sql = state.storage.sql;
      sql.exec("INSERT INTO revoked_sessions (session_id, until) VALUES ('ses_old', ?)", now + HOUR);
      sql.exec("INSERT INTO ledger_connections (id, provider, last_synced_at) VALUES ('con_old', 'sandbox', ?)", now);
      sql.exec(
        `INSERT INTO accounts (id, connection_id, provider_account_id, name, type, mask, currency, balance_current,
           balance_available, balances_as_of, created_at, updated_at)
         VALUES ('acc_old', 'con_old', 'HASH', 'Old', 'cash', '••••0001', 'USD', '10', '10', ?, ?, ?)`,
        now,
        now,
        now,
      );
      sql.exec(
        `INSERT INTO transactions (id, account_id, provider_transaction_id, status, type, description, amount,
           currency, date, created_at, updated_at, created_seq, change_seq)
         VALUES ('txn_old', 'acc_old', 'T1', 'posted', 'trade', 'Old trade', '-5', 'USD', ?, ?, ?, 1, 1)`,
        now,
        now,
        now,
      );
      state.storage.kv.put("feed_seq", 1);
      sql.exec(
        `INSERT INTO sync_runs (id, connection_id, trigger, status, idempotency_key, queued_at, sent_at)
         VALUES ('syn_old', 'con_old', 'manual', 'queued', 'manual:syn_old', ?, ?)`,
        now,
        now,
      );
      sql.exec(
        "INSERT INTO lockouts (client, failures, locked_until, updated_at) VALUES ('10.0.0.1', 3, NULL, ?)",
        now,
      );
    });
    // The current code starts on it: the constructor applies step 5 inside blockConcurrencyWhile.
    await evictDurableObject(stub);
    const { answer } = await stub.authorize({ sessionId: "ses_old", tokenVersion: 0, issuedAtMs: now });
    expect(answer.revoked).toBe(true);
    const accounts = await stub.read({ kind: "accounts" });
    expect(accounts).toMatchObject({ kind: "accounts", accounts: [{ account: { id: "acc_old", name: "Old" } }] });
    const page = await stub.read({ kind: "feed", after: 0, count: 10 });
    expect(JSON.parse(page.kind === "feed" && page.page ? page.page : "{}")).toMatchObject({
      added: [{ id: "txn_old" }],
    });
    await runInDurableObject(stub, (_, state) => {
      expect(state.storage.kv.get("schema_version")).toBe(HOME_SCHEMA.length);
      const tables = state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .toArray()
        .map((t) => t.name);
      expect(tables).not.toContain("lockouts");
      expect(state.storage.sql.exec("SELECT id, deadline_at FROM sync_runs").toArray()).toEqual([
        { id: "syn_old", deadline_at: null },
      ]);
    });
    // And the sync protocol works on it: the old queued run begins and completes.
    const begun = await stub.command({ type: "begin", runId: "syn_old", attempt: 1 });
    expect(begun).toMatchObject({ kind: "started", knownAccounts: ["HASH"] });
    const at = new Date();
    const done = await stub.command({
      type: "complete",
      pendingStaleMs: 86_400_000,
      snapshot: {
        runId: "syn_old",
        connectionId: "con_old",
        provider: "sandbox",
        fetchedAt: at.getTime(),
        attempt: 1,
        answer: [
          {
            since: new Date(at.getTime() - 86_400_000),
            account: {
              providerAccountId: "HASH",
              accountNumberMasked: "••••0001",
              name: "Upgraded",
              type: "cash",
              kind: "brokerage",
              currency: "USD",
              balances: { current: "10", available: "10", asOf: at },
              holdings: [],
            },
            transactions: [],
          },
        ],
      },
    });
    expect(done).toMatchObject({ kind: "applied" });
    expect(await homeSql(userId, "SELECT name FROM accounts")).toEqual([{ name: "Upgraded" }]);
    expect(await homeSql(userId, "SELECT status FROM sync_runs")).toEqual([{ status: "succeeded" }]);
  });

  it("each ledger table is exactly its column map (names, types, nullability)", async () => {
    const userId = `usr_columns_${crypto.randomUUID()}`;
    await homeOf(userId).ping();
    for (const t of LEDGER_TABLES) {
      const info = await homeSql<{ name: string; type: string; notnull: number }>(
        userId,
        `PRAGMA table_info(${t.name})`,
      );
      const declared = Object.entries(t.columns).map(([prop, col]) => ({
        name: snake(prop),
        type: col.type,
        notnull: col.nullable ? 0 : 1,
      }));
      const actual = info.map(({ name, type, notnull }) => ({ name, type, notnull }));
      // A primary key column may be declared without NOT NULL; SQLite still never stores null there.
      const key = new Set(
        (await homeSql<{ name: string; pk: number }>(userId, `PRAGMA table_info(${t.name})`))
          .filter((c) => c.pk)
          .map((c) => c.name),
      );
      expect(
        actual.map((c) => (key.has(c.name) ? { ...c, notnull: 1 } : c)),
        t.name,
      ).toEqual(declared);
    }
  });

  it("wrangler.toml renames the Gate to Home and adds the Limiter", () => {
    expect(committedWrangler).toMatch(/renamed_classes = \[\{ from = "Gate", to = "Home" \}\]/);
    expect(committedWrangler).toMatch(/new_sqlite_classes = \["Limiter"\]/);
  });
});

/** A queue that refuses every send: the Worker died (or Queues failed) right after recording the run. */
const deadQueue = {
  send: () => Promise.reject(new Error("the Worker died before the send")),
  sendBatch: () => Promise.reject(new Error("the Worker died before the send")),
} as unknown as Queue;
const crashingEnv = { ...env, SYNC_QUEUE: deadQueue } as Env;

async function connected(login: string) {
  const { tokens } = await seededSession();
  const connection = await connectSandbox(tokens.access_token, { login });
  return { token: tokens.access_token, userId: tokens.user.id, connection };
}

describe("nothing lost when a Worker dies between recording a run and sending it", () => {
  it("a manual sync whose send failed is sent again by the home within minutes, and syncs", async () => {
    const { token, userId, connection } = await connected("crash-manual");
    const res = await call(`/api/v1/connections/${connection.id}/sync`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
      env: crashingEnv,
    });
    expect(res.status).toBe(202);
    const { sync } = (await res.json()) as { sync: { id: string; status: string } };
    expect(sync.status).toBe("queued");
    expect((await runsOf(connection.id)).map((r) => [r.id, r.status, r.attempts])).toEqual([[sync.id, "queued", 0]]);

    // Nobody helps: the home's own alarm, past the resend delay, sends it to the real queue.
    testClock.advance(RESEND_AFTER_MS + 1000);
    expect(await runDurableObjectAlarm(homeOf(userId))).toBe(true);
    testClock.reset();
    const run = await settled(connection.id);
    expect(run).toMatchObject({ id: sync.id, status: "succeeded", attempts: 1 });
    expect(await dataCounts(connection.id)).toEqual({ accounts: 2, holdings: 7, transactions: 200 });
  });

  it("a scheduled run whose batch send failed is sent again too", async () => {
    const { userId, connection } = await connected("crash-cron");
    await runCron(SYNC_CRON, crashingEnv);
    const [queued] = await runsOf(connection.id);
    expect(queued).toMatchObject({ status: "queued", trigger: "scheduled", attempts: 0 });
    testClock.advance(RESEND_AFTER_MS + 1000);
    await runDurableObjectAlarm(homeOf(userId));
    testClock.reset();
    expect(await settled(connection.id)).toMatchObject({ id: queued?.id, status: "succeeded" });
  });

  it("'sync now' on a stuck run sends it again instead of reporting a run that will not move", async () => {
    const { token, connection } = await connected("crash-retry");
    const auth = { Authorization: `Bearer ${token}` };
    const first = await call(`/api/v1/connections/${connection.id}/sync`, {
      method: "POST",
      headers: auth,
      env: crashingEnv,
    });
    const { sync } = (await first.json()) as { sync: { id: string } };
    // Soon after, the same run is reported: it may still be on its way.
    const soon = await call(`/api/v1/connections/${connection.id}/sync`, { method: "POST", headers: auth });
    expect(await soon.json()).toEqual({ sync: { id: sync.id, status: "queued" } });
    expect((await runsOf(connection.id))[0]?.status).toBe("queued");
    // Past the resend delay the user's request sends it again (idempotently: same run id).
    testClock.advance(RESEND_AFTER_MS + 1000);
    const later = await call(`/api/v1/connections/${connection.id}/sync`, { method: "POST", headers: auth });
    testClock.reset();
    expect(later.status).toBe(202);
    expect(await later.json()).toEqual({ sync: { id: sync.id, status: "queued" } });
    expect(await settled(connection.id)).toMatchObject({ id: sync.id, status: "succeeded" });
    expect(await runsOf(connection.id)).toHaveLength(1);
  });

  it("a run delivered twice (the resend raced the original) syncs once", async () => {
    const { connection } = await connected("crash-twice");
    const message = await queuedRun(connection.id);
    expect(await attempt(message, 1)).toEqual({ action: "ack" });
    const before = await runsOf(connection.id);
    expect(await attempt(message, 1)).toEqual({ action: "ack" });
    expect(await runsOf(connection.id)).toEqual(before);
  });
});

describe("where data lives", () => {
  it("D1 holds no ledger tables after every migration", async () => {
    const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all<{ name: string }>();
    const names = tables.results.map((t) => t.name);
    for (const ledger of [
      "accounts",
      "holdings",
      "transactions",
      "transaction_removals",
      "change_feed_counter",
      "sync_runs",
    ]) {
      expect(names).not.toContain(ledger);
    }
    expect(names).toEqual(expect.arrayContaining(["users", "sessions", "connections", "audit_events"]));
  });

  it("the pages the home serialises are exactly their wire schemas", async () => {
    const { token, connection } = await connected("wire-pages");
    expect(await attempt(await queuedRun(connection.id), 1)).toEqual({ action: "ack" });
    const auth = { Authorization: `Bearer ${token}` };
    const { accounts } = (await (await call("/api/v1/accounts", { headers: auth })).json()) as {
      accounts: { id: string }[];
    };
    const page = await (
      await call(`/api/v1/accounts/${accounts[0]?.id}/transactions?limit=5`, { headers: auth })
    ).json();
    // Parsing keeps only what the schema names: equal means no field missing, none extra, every type right.
    expect(TransactionsPage.parse(page)).toEqual(page);
    expect((page as { transactions: unknown[] }).transactions).toHaveLength(5);
    const feed = await (await call("/api/v1/transactions/sync?count=5", { headers: auth })).json();
    expect(FeedPage.parse(feed)).toEqual(feed);
  });

  it("a user reading their own data makes no D1 query: one call to their home", async () => {
    const { token, connection } = await connected("one-hop");
    expect(await attempt(await queuedRun(connection.id), 1)).toEqual({ action: "ack" });
    const auth = { Authorization: `Bearer ${token}` };
    // Warm up: the first /auth/me reads D1 once and caches the profile in the home; the first
    // request of a session may record its last activity (at most once a minute).
    await call("/api/v1/auth/me", { headers: auth });
    const { accounts } = (await (await call("/api/v1/accounts", { headers: auth })).json()) as {
      accounts: { id: string }[];
    };
    const account = accounts[0]?.id ?? "";
    const queries: string[] = [];
    const counted = new Proxy(env.DB, {
      get(target, key) {
        const value = Reflect.get(target, key);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          queries.push(String(key));
          return value.apply(target, args);
        };
      },
    });
    const countingEnv = { ...env, DB: counted } as Env;
    for (const path of [
      "/api/v1/auth/me",
      "/api/v1/accounts",
      `/api/v1/accounts?connection_id=${connection.id}`,
      `/api/v1/accounts/${account}`,
      `/api/v1/accounts/${account}/holdings`,
      `/api/v1/accounts/${account}/transactions?limit=50`,
      "/api/v1/transactions/sync",
      `/api/v1/connections/${connection.id}/syncs`,
    ]) {
      const res = await call(path, { headers: auth, env: countingEnv });
      expect(res.status, path).toBe(200);
    }
    expect(queries).toEqual([]);
  });
});
