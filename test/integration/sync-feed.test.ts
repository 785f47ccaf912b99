import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { connectSandbox } from "../support/connections";
import { homeSql } from "../support/home";
import { problem } from "../support/http";
import { authed } from "../support/identity";
import { seededSession } from "../support/seed";
import { attempt, dataCounts, getJson, queuedRun, runsOf } from "../support/sync";

// The change feed across pending → posted, a modification, and a deleted connection, with the
// sandbox's clock moved by the development endpoint (the sandbox is time-driven).
interface Tx {
  id: string;
  account_id: string;
  status: string;
  amount: string;
  description: string;
  pending_transaction_id: string | null;
}
interface Page {
  added: Tx[];
  modified: Tx[];
  removed: { id: string; account_id: string }[];
  next_cursor: string;
  has_more: boolean;
}

const feed = async (token: string, cursor?: string, count = 500) =>
  (await getJson<Page>(token, `/api/v1/transactions/sync?count=${count}${cursor ? `&cursor=${cursor}` : ""}`)).body;

/** Applies pages from `cursor` until has_more is false, as a client would; returns the end state. */
async function replay(token: string, from: Map<string, Tx>, cursor: string | undefined, count: number) {
  const state = new Map(from);
  let next = cursor;
  for (let i = 0; i < 1000; i++) {
    const page = await feed(token, next, count);
    expect(page.added.length + page.modified.length + page.removed.length).toBeLessThanOrEqual(count);
    for (const t of [...page.added, ...page.modified]) state.set(t.id, t);
    for (const r of page.removed) state.delete(r.id);
    next = page.next_cursor;
    if (!page.has_more) return { state, cursor: next };
  }
  throw new Error("the feed never ended");
}

/** Every transaction of the user, through the per-account listing. */
async function listed(token: string) {
  const { body } = await getJson<{ accounts: { id: string }[] }>(token, "/api/v1/accounts");
  const all = new Map<string, Tx>();
  for (const a of body.accounts) {
    const page = await getJson<{ transactions: Tx[] }>(token, `/api/v1/accounts/${a.id}/transactions?limit=500`);
    for (const t of page.body.transactions) all.set(t.id, t);
  }
  return all;
}

const sync = async (connectionId: string) => {
  const message = await queuedRun(connectionId);
  expect(await attempt(message, 1)).toEqual({ action: "ack" });
  const run = (await runsOf(connectionId)).find((r) => r.id === message.run_id);
  expect(run?.status).toBe("succeeded");
  return JSON.parse(run?.stats ?? "{}") as Record<string, number>;
};

const advanceSandbox = async (token: string, seconds: number) => {
  const res = await authed(token, "/api/v1/dev/sandbox/clock", { method: "POST", json: { advance_seconds: seconds } });
  expect(res.status).toBe(200);
};

describe("GET /api/v1/transactions/sync", () => {
  let token = "";
  afterAll(async () => {
    if (token) await authed(token, "/api/v1/dev/sandbox/clock", { method: "POST", json: { reset: true } });
  });

  it("reports pending → posted as the posted row added (linked) and the pending row removed; replays converge", async () => {
    const { tokens } = await seededSession();
    token = tokens.access_token;
    const connection = await connectSandbox(token, { scenario: "pending_to_posted", login: "p2p-feed" });
    await sync(connection.id);

    const first = await feed(token);
    expect(first.has_more).toBe(false);
    expect(first.modified).toEqual([]);
    expect(first.removed).toEqual([]);
    expect(first.added).toHaveLength(201);
    const pending = first.added.filter((t) => t.status === "pending");
    expect(pending).toHaveLength(1);
    const cursor1 = first.next_cursor;
    const state1 = new Map(first.added.map((t) => [t.id, t]));
    expect(await feed(token, cursor1)).toMatchObject({ added: [], modified: [], removed: [], next_cursor: cursor1 });

    // A day later the pending trade posts under a new provider id.
    await advanceSandbox(token, 25 * 3600);
    const stats = await sync(connection.id);
    // The sync reads up to the sandbox's now: the posted trade, and the day's new activity.
    expect(stats).toMatchObject({ transactions_added: 2, transactions_removed: 1, transactions_modified: 0 });

    const second = await feed(token, cursor1);
    expect(second.modified).toEqual([]);
    expect(second.removed).toEqual([{ id: pending[0]?.id, account_id: pending[0]?.account_id }]);
    expect(second.added).toHaveLength(2);
    expect(second.added.filter((t) => t.pending_transaction_id !== null)).toEqual([
      expect.objectContaining({ status: "posted", amount: pending[0]?.amount, pending_transaction_id: pending[0]?.id }),
    ]);

    // Converges from any cursor, in pages of any size.
    const truth = await listed(token);
    expect(truth.has(pending[0]?.id ?? "")).toBe(false);
    expect(truth.size).toBe(202);
    const fromStart = await replay(token, new Map(), undefined, 7);
    expect(fromStart.state).toEqual(truth);
    const fromMiddle = await replay(token, state1, cursor1, 1);
    expect(fromMiddle.state).toEqual(truth);
    expect(fromMiddle.cursor).toBe(fromStart.cursor);

    // Nothing changed at the provider: nothing is written, nothing reported.
    expect(await sync(connection.id)).toMatchObject({ rows_written: 0 });
    expect(await feed(token, fromStart.cursor)).toMatchObject({ added: [], modified: [], removed: [] });
    await authed(token, "/api/v1/dev/sandbox/clock", { method: "POST", json: { reset: true } });
  });

  it("reports a corrected transaction as modified, once, in its latest state", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token, { login: "modify-feed" });
    await sync(connection.id);
    const start = await feed(tokens.access_token);
    // Our copy drifted (as if the provider had corrected an item since): the next sync fixes it.
    const target = [...start.added].sort((a, b) => (a.id < b.id ? -1 : 1))[0] as Tx;
    await homeSql(
      tokens.user.id,
      "UPDATE transactions SET amount = '0.01', description = 'stale' WHERE id = ?",
      target.id,
    );
    await env.DB.prepare("UPDATE connections SET last_synced_at = NULL WHERE id = ?").bind(connection.id).run();
    expect(await sync(connection.id)).toMatchObject({ transactions_modified: 1, transactions_added: 0 });
    const page = await feed(tokens.access_token, start.next_cursor);
    expect(page.added).toEqual([]);
    expect(page.modified).toHaveLength(1);
    expect(page.modified[0]).toMatchObject({ id: target.id, amount: target.amount, description: target.description });
  });

  it("reports every transaction of a deleted connection as removed, and the data is gone", async () => {
    const { tokens } = await seededSession();
    const t = tokens.access_token;
    const keep = await connectSandbox(t, { login: "keep-me" });
    const drop = await connectSandbox(t, { login: "drop-me" });
    await sync(keep.id);
    await sync(drop.id);
    const before = await feed(t);
    const { body: dropAccounts } = await getJson<{ accounts: { id: string }[] }>(
      t,
      `/api/v1/accounts?connection_id=${drop.id}`,
    );
    const dropAccountIds = new Set(dropAccounts.accounts.map((a) => a.id));
    const expected = before.added
      .filter((x) => dropAccountIds.has(x.account_id))
      .map((x) => x.id)
      .sort();
    expect(expected).toHaveLength(200);

    expect((await authed(t, `/api/v1/connections/${drop.id}`, { method: "DELETE" })).status).toBe(204);
    const after = await feed(t, before.next_cursor);
    expect(after.added).toEqual([]);
    expect(after.removed.map((r) => r.id).sort()).toEqual(expected);
    expect(await dataCounts(drop.id, tokens.user.id)).toEqual({ accounts: 0, holdings: 0, transactions: 0 });
    expect((await dataCounts(keep.id)).transactions).toBe(200);
    const { body } = await getJson<{ accounts: unknown[] }>(t, "/api/v1/accounts");
    expect(body.accounts).toHaveLength(2);
    const replayed = await replay(t, new Map(), undefined, 50);
    expect(replayed.state).toEqual(await listed(t));
  });

  it("the accounts list, kept in the home between reads, follows every change: a sync, another connection, a deletion", async () => {
    const { tokens } = await seededSession();
    const t = tokens.access_token;
    const list = async (filter = "") =>
      (await getJson<{ accounts: { id: string; connection_id: string }[] }>(t, `/api/v1/accounts${filter}`)).body
        .accounts;
    const first = await connectSandbox(t, { login: "memo-first" });
    expect(await list()).toEqual([]);
    await sync(first.id);
    const one = await list();
    expect(one.length).toBeGreaterThan(0);
    expect(await list()).toEqual(one);
    expect(await list(`?connection_id=${first.id}`)).toEqual(one);

    const second = await connectSandbox(t, { login: "memo-second" });
    await sync(second.id);
    const both = await list();
    expect(both.filter((a) => a.connection_id === second.id).length).toBeGreaterThan(0);
    expect(both.filter((a) => a.connection_id === first.id)).toEqual(one);

    expect((await authed(t, `/api/v1/connections/${first.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await list()).toEqual(both.filter((a) => a.connection_id === second.id));
    expect((await authed(t, `/api/v1/accounts?connection_id=${first.id}`)).status).toBe(404);
  });

  it("refuses cursors it did not issue and out-of-range counts (422)", async () => {
    const { tokens } = await seededSession();
    for (const q of ["cursor=abc", "cursor=f1.%%%", "cursor=f1.LTE", "count=0", "count=501", "count=1.5"]) {
      const res = await authed(tokens.access_token, `/api/v1/transactions/sync?${q}`);
      expect(res.status, q).toBe(422);
    }
  });

  it("refuses a well-formed cursor past the end of the caller's feed: another user's, or a forged one (422)", async () => {
    const a = await seededSession();
    const b = await seededSession();
    const feedOf = async (token: string, q = "") =>
      (await (await authed(token, `/api/v1/transactions/sync${q}`)).json()) as { next_cursor: string };
    const connection = await connectSandbox(a.tokens.access_token);
    await attempt(await queuedRun(connection.id), 1);
    // A's feed has changes; B's has none, so A's cursor is past the end of B's.
    const cursor = (await feedOf(a.tokens.access_token)).next_cursor;
    expect(cursor).not.toBe("f1.MA");
    for (const q of [`cursor=${cursor}`, `cursor=f1.${btoa("999999999999999").replace(/=+$/, "")}`]) {
      const res = await authed(b.tokens.access_token, `/api/v1/transactions/sync?${q}`);
      expect(res.status, q).toBe(422);
      expect((await problem(res)).code).toBe("validation_failed");
    }
    // The caller's own cursors, the last included, stay good.
    expect((await authed(a.tokens.access_token, `/api/v1/transactions/sync?cursor=${cursor}`)).status).toBe(200);
    expect((await feedOf(b.tokens.access_token)).next_cursor).toBe("f1.MA");
  });
});
