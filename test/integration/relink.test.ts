import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditFor, connectSandbox } from "../support/connections";
import { authed } from "../support/identity";
import { seededSession } from "../support/seed";
import { attempt, getJson, queuedRun, runsOf } from "../support/sync";

// No duplicates across relinks: an account is the provider's account, whatever connection
// brought it (docs/contract.md "Connecting a provider").

type Feed = { added: unknown[]; modified: unknown[]; removed: unknown[]; next_cursor: string };

async function synced(token: string, login: string) {
  const connection = await connectSandbox(token, { login });
  expect(await attempt(await queuedRun(connection.id), 1)).toEqual({ action: "ack" });
  const runs = await runsOf(connection.id);
  return { connection, stats: JSON.parse(runs.at(-1)?.stats ?? "{}") as Record<string, number> };
}

describe("connecting the same login twice", () => {
  it("re-links its accounts to the new connection: no duplicates, history and feed carry on, the old one retires", async () => {
    const { tokens } = await seededSession("relinker");
    const t = tokens.access_token;
    const first = await synced(t, "same-login");
    const before = await getJson<{ accounts: { id: string; balances: unknown }[] }>(t, "/api/v1/accounts");
    expect(before.body.accounts).toHaveLength(2);
    const feed = (await getJson<Feed>(t, "/api/v1/transactions/sync?count=500")).body;
    expect(feed.added).toHaveLength(200);

    const second = await synced(t, "same-login");
    expect(second.stats).toMatchObject({ accounts_relinked: 2, accounts_added: 0, transactions_added: 0 });

    const after = await getJson<{ accounts: { id: string; connection_id: string; balances: unknown }[] }>(
      t,
      "/api/v1/accounts",
    );
    expect(after.body.accounts.map((a) => a.id).sort()).toEqual(before.body.accounts.map((a) => a.id).sort());
    expect(after.body.accounts.every((a) => a.connection_id === second.connection.id)).toBe(true);
    // Nothing new for a client following the feed: the same transactions, not added twice.
    expect(
      (await getJson<Feed>(t, `/api/v1/transactions/sync?count=500&cursor=${feed.next_cursor}`)).body,
    ).toMatchObject({
      added: [],
      removed: [],
    });
    // The old connection is retired: gone from the list, its credentials deleted, audited.
    const list = await getJson<{ connections: { id: string }[] }>(t, "/api/v1/connections");
    expect(list.body.connections.map((c) => c.id)).toEqual([second.connection.id]);
    expect((await authed(t, `/api/v1/connections/${first.connection.id}`)).status).toBe(404);
    const row = await env.DB.prepare("SELECT id FROM connections WHERE id = ?").bind(first.connection.id).first();
    expect(row).toBeNull();
    const audits = await auditFor("connection.relinked", second.connection.id);
    expect(audits[0]?.details).toMatchObject({ replaced_connection_id: first.connection.id, accounts_moved: 2 });

    // Syncing again changes nothing and moves nothing.
    const again = await attempt(await queuedRun(second.connection.id), 1);
    expect(again).toEqual({ action: "ack" });
    const last = JSON.parse((await runsOf(second.connection.id)).at(-1)?.stats ?? "{}");
    expect(last).toMatchObject({ accounts_relinked: 0, rows_written: 0 });
  });

  it("another login's accounts stay apart, and nobody else's accounts are ever adopted", async () => {
    const a = await seededSession("two-logins");
    await synced(a.tokens.access_token, "login-one");
    const other = await synced(a.tokens.access_token, "login-two");
    expect(other.stats).toMatchObject({ accounts_relinked: 0, accounts_added: 2 });
    expect(
      (await getJson<{ accounts: unknown[] }>(a.tokens.access_token, "/api/v1/accounts")).body.accounts,
    ).toHaveLength(4);
    // A second user connecting the same login gets their own copy; the first keeps theirs.
    const b = await seededSession("same-login-other-user");
    const theirs = await synced(b.tokens.access_token, "login-one");
    expect(theirs.stats).toMatchObject({ accounts_relinked: 0, accounts_added: 2 });
    expect(
      (await getJson<{ accounts: unknown[] }>(a.tokens.access_token, "/api/v1/accounts")).body.accounts,
    ).toHaveLength(4);
  });
});
