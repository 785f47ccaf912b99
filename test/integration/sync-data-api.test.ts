import { describe, expect, it } from "vitest";
import { connectSandbox } from "../support/connections";
import { connectionSql } from "../support/home";
import { problem } from "../support/http";
import { authed } from "../support/identity";
import { seededSession } from "../support/seed";
import { attempt, getJson, queuedRun } from "../support/sync";

interface Account {
  id: string;
  connection_id: string;
  name: string;
  type: string;
  subtype: string;
  classification: string;
  mask: string;
  currency: string;
  balances: { current: string | null; available: string | null; as_of: string };
  missing_since: string | null;
}
interface Tx {
  id: string;
  date: string;
  amount: string;
  status: string;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function syncedUser(login: string) {
  const { tokens } = await seededSession();
  const connection = await connectSandbox(tokens.access_token, { login });
  expect(await attempt(await queuedRun(connection.id), 1)).toEqual({ action: "ack" });
  const { body } = await getJson<{ accounts: Account[] }>(tokens.access_token, "/api/v1/accounts");
  return { token: tokens.access_token, connection, accounts: body.accounts };
}

describe("accounts, holdings and transactions", () => {
  it("serves accounts with exact decimal balances dated by the last sync, masked numbers", async () => {
    const a = await syncedUser("data-shape");
    expect(a.accounts.map((x) => x.subtype).sort()).toEqual(["cash", "margin"]);
    // Brokerage accounts are assets.
    expect(a.accounts.map((x) => [x.type, x.classification])).toEqual([
      ["brokerage", "asset"],
      ["brokerage", "asset"],
    ]);
    for (const acct of a.accounts) {
      expect(acct.connection_id).toBe(a.connection.id);
      expect(acct.mask).toMatch(/^••••\d{4}$/);
      expect(acct.currency).toBe("USD");
      expect(acct.balances.current).toMatch(DECIMAL);
      expect(acct.balances.available).toMatch(DECIMAL);
      expect(acct.balances.as_of).toMatch(RFC3339);
      expect(acct.missing_since).toBeNull();
      const one = await getJson<Account>(a.token, `/api/v1/accounts/${acct.id}`);
      expect(one.body).toEqual(acct);
      const { body } = await getJson<{ holdings: Record<string, string | null>[] }>(
        a.token,
        `/api/v1/accounts/${acct.id}/holdings`,
      );
      expect(body.holdings.length).toBeGreaterThan(0);
      for (const h of body.holdings) {
        expect(h.quantity).toMatch(DECIMAL);
        if (h.market_value !== null) expect(h.market_value).toMatch(DECIMAL);
        expect(h.as_of).toMatch(RFC3339);
      }
    }
    // Money is stored as text, never REAL (a direct look at the user's home).
    const types = await connectionSql<{ t: string }>(
      a.connection.id,
      "SELECT DISTINCT typeof(amount) AS t FROM transactions UNION SELECT DISTINCT typeof(balance_current) FROM accounts",
    );
    expect(types.map((r) => r.t)).toEqual(["text"]);
    const filtered = await getJson<{ accounts: Account[] }>(
      a.token,
      `/api/v1/accounts?connection_id=${a.connection.id}`,
    );
    expect(filtered.body.accounts).toHaveLength(2);

    // A later sync that finds the same figures writes nothing, yet vouches for them: as_of moves.
    await new Promise((r) => setTimeout(r, 5));
    await attempt(await queuedRun(a.connection.id), 1);
    const later = await getJson<Account & { updated_at: string }>(a.token, `/api/v1/accounts/${a.accounts[0]?.id}`);
    expect(Date.parse(later.body.balances.as_of)).toBeGreaterThan(Date.parse(a.accounts[0]?.balances.as_of ?? ""));
    expect(later.body.updated_at).toBe((a.accounts[0] as Account & { updated_at: string }).updated_at);
  });

  it("pages transactions newest first with a stable keyset cursor, and filters by date", async () => {
    const a = await syncedUser("data-pages");
    const margin = a.accounts.find((x) => x.subtype === "margin") as Account;
    const seen: Tx[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { transactions: Tx[]; next_cursor: string | null } } = await getJson(
        a.token,
        `/api/v1/accounts/${margin.id}/transactions?limit=25${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.body.transactions.length).toBeLessThanOrEqual(25);
      seen.push(...page.body.transactions);
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(120);
    // The page arrives as JSON text from the user's home: still served as JSON, with every wire field.
    const res = await authed(a.token, `/api/v1/accounts/${margin.id}/transactions?limit=1`);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    const [one] = ((await res.json()) as { transactions: Record<string, unknown>[] }).transactions;
    expect(Object.keys(one ?? {}).sort()).toEqual(
      ["account_id", "amount", "created_at", "currency", "date", "description", "id", "pending_transaction_id"]
        .concat(["price", "quantity", "status", "symbol", "type", "updated_at"])
        .sort(),
    );
    expect(new Set(seen.map((t) => t.id)).size).toBe(120);
    const dates = seen.map((t) => Date.parse(t.date));
    expect([...dates].sort((x, y) => y - x)).toEqual(dates);
    for (const t of seen) expect(t.amount).toMatch(DECIMAL);

    // A bare `to` date covers its whole day; `from` and `to` are inclusive.
    const day = (seen[10] as Tx).date.slice(0, 10);
    const sameDay = seen.filter((t) => t.date.startsWith(day));
    const { body } = await getJson<{ transactions: Tx[] }>(
      a.token,
      `/api/v1/accounts/${margin.id}/transactions?from=${day}&to=${day}`,
    );
    expect(body.transactions.map((t) => t.id)).toEqual(sameDay.map((t) => t.id));
    const exact = (seen[10] as Tx).date;
    const point = await getJson<{ transactions: Tx[] }>(
      a.token,
      `/api/v1/accounts/${margin.id}/transactions?from=${exact}&to=${exact}`,
    );
    expect(point.body.transactions.map((t) => t.id)).toContain((seen[10] as Tx).id);

    // The user's own account with nothing in the window is an empty page, not a 404.
    const empty = await getJson<{ transactions: Tx[]; next_cursor: string | null }>(
      a.token,
      `/api/v1/accounts/${margin.id}/transactions?from=2099-01-01`,
    );
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ transactions: [], next_cursor: null });
  });

  it("answers bad filters with 422, never 500", async () => {
    const a = await syncedUser("data-bad-input");
    const id = a.accounts[0]?.id;
    for (const q of [
      "from=2025-02-30",
      "from=yesterday",
      "to=2025-13-01",
      "from=2025-03-02&to=2025-03-01",
      "limit=0",
      "limit=501",
      "cursor=not-a-cursor",
    ]) {
      const res = await authed(a.token, `/api/v1/accounts/${id}/transactions?${q}`);
      expect(res.status, q).toBe(422);
      expect((await problem(res)).code).toBe("validation_failed");
    }
  });
});

describe("users never see each other's data", () => {
  it("another user's accounts, holdings, transactions and connection filter are 404; their feed is empty", async () => {
    const a = await syncedUser("isolation-a");
    const { tokens } = await seededSession();
    const b = tokens.access_token;
    const id = a.accounts[0]?.id;
    expect((await getJson<{ accounts: unknown[] }>(b, "/api/v1/accounts")).body.accounts).toEqual([]);
    for (const path of [
      `/api/v1/accounts/${id}`,
      `/api/v1/accounts/${id}/holdings`,
      `/api/v1/accounts/${id}/transactions`,
      `/api/v1/accounts?connection_id=${a.connection.id}`,
      `/api/v1/connections/${a.connection.id}/syncs`,
    ]) {
      const res = await authed(b, path);
      expect(res.status, path).toBe(404);
      expect((await problem(res)).code).toBe("not_found");
    }
    const feed = await getJson<{ added: unknown[]; modified: unknown[]; removed: unknown[] }>(
      b,
      "/api/v1/transactions/sync",
    );
    expect(feed.body).toMatchObject({ added: [], modified: [], removed: [], has_more: false });
    // The owner still sees everything.
    expect(
      (await getJson<{ added: unknown[] }>(a.token, "/api/v1/transactions/sync?count=500")).body.added,
    ).toHaveLength(200);
  });

  it("every data route needs a bearer token", async () => {
    const { call } = await import("../support/http");
    for (const path of ["/api/v1/accounts", "/api/v1/accounts/x", "/api/v1/transactions/sync"]) {
      expect((await call(path)).status, path).toBe(401);
    }
  });
});
