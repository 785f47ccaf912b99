/**
 * Money over time (issue 22): balance history, net worth and reconciliation, through the sandbox
 * providers with the sandbox clock moved a simulated day between syncs.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loggedInAdmin } from "../support/admin";
import { auditFor, callbackPost, connectSandbox } from "../support/connections";
import { connectionSql } from "../support/home";
import { call, problem } from "../support/http";
import { authed } from "../support/identity";
import { seededSession } from "../support/seed";
import { attempt, getJson, queuedRun, runsOf } from "../support/sync";

interface Account {
  id: string;
  type: string;
  classification: string;
  currency: string;
  balances: { current: string | null; available: string | null };
  reconciliation: { status: string; difference: string; since: string | null } | null;
}
interface Point {
  date: string;
  current: string | null;
  available: string | null;
  cash: string | null;
  as_of: string;
}
interface WorthPoint {
  date: string;
  assets: string;
  liabilities: string;
  net: string;
  accounts: number;
  carried_forward: boolean;
}
interface Worth {
  from: string;
  to: string;
  interval: string;
  currencies: { currency: string; points: WorthPoint[] }[];
}

const DAY_S = 86_400;
let token = "";
const clock = (json: Record<string, unknown>) => authed(token, "/api/v1/dev/sandbox/clock", { method: "POST", json });
afterEach(async () => {
  if (token) await clock({ reset: true });
});

async function syncOnce(connectionId: string) {
  const message = await queuedRun(connectionId);
  await attempt(message, 1);
  const run = (await runsOf(connectionId)).find((r) => r.id === message.run_id);
  expect(run?.status, run?.error_code ?? "").toBe("succeeded");
  return JSON.parse(String(run?.stats)) as { rows_written: number };
}

async function bank(scenario = "default") {
  const started = (await (
    await authed(token, "/api/v1/connections", {
      method: "POST",
      json: { provider: "sandbox_gocardless", institution_id: "SANDBOXFINANCE_SFIN0000", scenario },
    })
  ).json()) as { authorization_url: string };
  const url = new URL(started.authorization_url);
  const back = new URL(
    (await call(url.pathname + url.search, { redirect: "manual" })).headers.get("Location") as string,
  );
  const handOff = await (await call(back.pathname + back.search, { headers: { Accept: "application/json" } })).json();
  const res = await callbackPost(token, handOff as { state: string; code: string });
  expect(res.status).toBe(200);
  return ((await res.json()) as { connection: { id: string } }).connection.id;
}

const accountsOf = async (connectionId: string) =>
  (await getJson<{ accounts: Account[] }>(token, `/api/v1/accounts?connection_id=${connectionId}`)).body.accounts;
const history = async (accountId: string, q = "") =>
  (
    await getJson<{ balances: Point[]; next_cursor: string | null }>(
      token,
      `/api/v1/accounts/${accountId}/balances${q}`,
    )
  ).body;
const netWorth = async (q: string) => (await getJson<Worth>(token, `/api/v1/net-worth${q}`)).body;

describe("balance history and net worth", () => {
  it("keeps one point per account per day, and a net worth per currency that matches the accounts", async () => {
    ({
      tokens: { access_token: token },
    } = await seededSession());
    const connection = await bank();
    await syncOnce(connection);
    // A second sync the same day replaces nothing (the figures did not move): 0 rows.
    expect((await syncOnce(connection)).rows_written).toBe(0);
    expect((await clock({ advance_seconds: DAY_S })).status).toBe(200);
    await syncOnce(connection);
    expect((await clock({ advance_seconds: 2 * DAY_S })).status).toBe(200);
    await syncOnce(connection);

    const accounts = await accountsOf(connection);
    const eur = accounts.find((a) => a.currency === "EUR") as Account;
    const card = accounts.find((a) => a.currency === "GBP") as Account;
    const points = (await history(eur.id)).balances;
    // Three days with a sync; the day between two of them is absent, not invented.
    expect(points).toHaveLength(3);
    const days = points.map((p) => p.date);
    expect([...days].sort()).toEqual(days);
    expect(new Set(days).size).toBe(3);
    expect(Date.parse(days[2] as string) - Date.parse(days[1] as string)).toBe(2 * DAY_S * 1000);
    expect(points.at(-1)?.current).toBe(eur.balances.current);
    // Pages, oldest first.
    const first = await history(eur.id, "?limit=2");
    expect(first.balances.map((p) => p.date)).toEqual(days.slice(0, 2));
    const rest = await history(eur.id, `?limit=2&cursor=${first.next_cursor}`);
    expect(rest.balances.map((p) => p.date)).toEqual(days.slice(2));
    expect(rest.next_cursor).toBeNull();
    expect((await history(eur.id, `?from=${days[1]}&to=${days[1]}`)).balances.map((p) => p.date)).toEqual([days[1]]);

    // Net worth, per currency, daily over the synced days: the latest point matches the accounts.
    const worth = await netWorth(`?from=${days[0]}&to=${days[2]}&interval=day`);
    expect(worth.currencies.map((c) => c.currency)).toEqual(["EUR", "GBP"]);
    const eurSeries = worth.currencies[0]?.points as WorthPoint[];
    expect(eurSeries.map((p) => p.date)).toHaveLength(4);
    expect(eurSeries.at(-1)).toMatchObject({
      assets: eur.balances.current,
      liabilities: "0",
      net: eur.balances.current,
    });
    // The day without a sync carries the day before forward, and says so.
    expect(eurSeries.map((p) => p.carried_forward)).toEqual([false, false, true, false]);
    const gbp = worth.currencies[1]?.points.at(-1) as WorthPoint;
    expect(gbp).toMatchObject({ assets: "0", liabilities: card.balances.current, net: card.balances.current });
    expect(card.classification).toBe("liability");
    // Without `to`, the series ends on the sandboxes' day (moved 3 days ahead), where the balances are.
    const byDefault = await netWorth("");
    expect(byDefault.to).toBe(days[2]);
    expect(byDefault.currencies[0]?.points.at(-1)).toMatchObject({ date: days[2], net: eur.balances.current });
    // Weekly and monthly: one point per interval end, and `to`.
    const monthly = await netWorth(`?from=${days[0]}&to=${days[2]}&interval=month`);
    expect(monthly.currencies[0]?.points.at(-1)?.date).toBe(days[2]);
    expect(monthly.currencies[0]?.points.at(-1)?.net).toBe(eur.balances.current);

    // Both agree with the transactions: ok.
    for (const a of accounts) expect(a.reconciliation).toMatchObject({ status: "ok", difference: "0" });
  });

  it("weekly and monthly series read, at each end, exactly what the daily series reads there", async () => {
    ({
      tokens: { access_token: token },
    } = await seededSession());
    const connection = await bank();
    await syncOnce(connection);
    const accounts = await accountsOf(connection);
    // A history the sync would have written over 150 days, with gaps (days without a sync) and
    // a point before the range, written into the home as the sync writes it: simulating 150
    // days of syncs would take 150 rounds, and GoCardless allows 4 a day.
    const start = Date.parse("2026-03-01T00:00:00Z");
    for (const [n, a] of accounts.entries()) {
      for (let d = -3; d < 150; d += 1 + ((d + n + 30) % 3)) {
        const day = new Date(start + d * DAY_S * 1000).toISOString().slice(0, 10);
        const current = `${n % 2 ? "-" : ""}${100 + d}.${String((d * 7 + n) % 100).padStart(2, "0")}`;
        await connectionSql(
          connection,
          "INSERT INTO balance_history (account_id, day, current, available, cash, as_of) VALUES (?, ?, ?, NULL, NULL, ?)",
          a.id,
          day,
          current,
          Date.parse(`${day}T12:00:00Z`),
        );
      }
    }
    const range = "from=2026-03-01&to=2026-07-15";
    const daily = await netWorth(`?${range}&interval=day`);
    const byDay = new Map(daily.currencies.flatMap((c) => c.points.map((p) => [`${c.currency} ${p.date}`, p])));
    expect(byDay.size).toBeGreaterThan(200);
    for (const interval of ["week", "month"]) {
      const series = await netWorth(`?${range}&interval=${interval}`);
      expect(series.currencies.map((c) => c.currency)).toEqual(daily.currencies.map((c) => c.currency));
      for (const c of series.currencies) {
        expect(c.points.length).toBeGreaterThan(interval === "week" ? 15 : 4);
        for (const p of c.points) expect(p).toEqual(byDay.get(`${c.currency} ${p.date}`));
      }
    }
  });

  it("refuses bad ranges and cursors with 422, and another user's account with 404", async () => {
    ({
      tokens: { access_token: token },
    } = await seededSession());
    for (const q of [
      "?from=2026-03-01&to=2026-02-01",
      "?from=2020-01-01&to=2026-01-01&interval=day",
      "?interval=year",
      "?from=2026-02-30",
      // A timestamp whose UTC day is in the year 10000 (or before 0000) names no day.
      "?from=9999-12-31T23:00:00-05:00&to=9999-12-31",
      "?to=9999-12-31T23:00:00-05:00",
      "?to=0000-01-01T00:00:00%2B01:00",
    ]) {
      const res = await authed(token, `/api/v1/net-worth${q}`);
      expect(res.status, q).toBe(422);
      expect((await problem(res)).code).toBe("validation_failed");
    }
    // Nothing synced yet: an empty series, not an error.
    expect((await netWorth("")).currencies).toEqual([]);
    // The default start stays within day strings.
    expect(await netWorth("?to=0000-01-01")).toMatchObject({ from: "0000-01-01", to: "0000-01-01" });
    const other = await seededSession();
    const theirs = await connectSandbox(other.tokens.access_token);
    const message = await queuedRun(theirs.id);
    await attempt(message, 1);
    const [account] = (await getJson<{ accounts: Account[] }>(other.tokens.access_token, "/api/v1/accounts")).body
      .accounts;
    expect((await authed(token, `/api/v1/accounts/${account?.id}/balances`)).status).toBe(404);
    const bad = await authed(other.tokens.access_token, `/api/v1/accounts/${account?.id}/balances?cursor=nope`);
    expect(bad.status).toBe(422);
  });

  it("goes with the connection: deleting it erases the history", async () => {
    ({
      tokens: { access_token: token },
    } = await seededSession());
    const connection = await bank();
    await syncOnce(connection);
    const [account] = await accountsOf(connection);
    expect((await history(account?.id as string)).balances).toHaveLength(1);
    expect((await authed(token, `/api/v1/connections/${connection}`, { method: "DELETE" })).status).toBe(204);
    expect((await authed(token, `/api/v1/accounts/${account?.id}/balances`)).status).toBe(404);
    expect((await netWorth("")).currencies).toEqual([]);
  });
});

describe("reconciliation", () => {
  it("drift: a posted fee the bank never returns shows as drift, in the feed, the audit and the admin list", async () => {
    ({
      tokens: { access_token: token },
    } = await seededSession());
    const admin = await loggedInAdmin();
    const connection = await bank("drift");
    await syncOnce(connection);
    const cursor = (await getJson<{ next_cursor: string }>(token, "/api/v1/transactions/sync")).body.next_cursor;
    expect((await accountsOf(connection)).every((a) => a.reconciliation?.status === "ok")).toBe(true);
    // From the second day on, the bank charges a fee a day it never lists.
    expect((await clock({ advance_seconds: 2 * DAY_S })).status).toBe(200);
    await syncOnce(connection);
    const drifting = (await accountsOf(connection)).filter((a) => a.reconciliation?.status === "drift");
    expect(drifting.length).toBeGreaterThan(0);
    const [a] = drifting;
    expect(Number(a?.reconciliation?.difference)).toBeLessThan(0);
    expect(a?.reconciliation?.since).not.toBeNull();

    const feed = (
      await getJson<{ reconciliation: { account_id: string; status: string; difference: string }[] }>(
        token,
        `/api/v1/transactions/sync?cursor=${cursor}`,
      )
    ).body;
    expect(feed.reconciliation).toContainEqual(
      expect.objectContaining({ account_id: a?.id, status: "drift", difference: a?.reconciliation?.difference }),
    );
    expect((await auditFor("account.reconciliation_drift", connection)).length).toBeGreaterThan(0);
    const list = (
      await getJson<{ accounts: { account_id: string; difference: string }[] }>(
        admin.tokens.access_token,
        "/api/v1/admin/sync/drifts",
      )
    ).body;
    expect(list.accounts).toContainEqual(expect.objectContaining({ account_id: a?.id }));
    // Only administrators see it.
    expect((await authed(token, "/api/v1/admin/sync/drifts")).status).toBe(403);
  });

  it("a brokerage account reconciles its cash (Alpaca), and its drift scenario drifts", async () => {
    ({
      tokens: { access_token: token },
    } = await seededSession());
    for (const [scenario, status] of [
      ["default", "ok"],
      ["drift", "drift"],
    ] as const) {
      const started = (await (
        await authed(token, "/api/v1/connections", { method: "POST", json: { provider: "sandbox_alpaca", scenario } })
      ).json()) as { authorization_url: string };
      const url = new URL(started.authorization_url);
      const back = new URL(
        (await call(url.pathname + url.search, { redirect: "manual" })).headers.get("Location") as string,
      );
      const handOff = await (
        await call(back.pathname + back.search, { headers: { Accept: "application/json" } })
      ).json();
      const { connection } = (await (await callbackPost(token, handOff as { state: string; code: string })).json()) as {
        connection: { id: string };
      };
      await syncOnce(connection.id);
      expect((await clock({ advance_seconds: 2 * DAY_S })).status).toBe(200);
      await syncOnce(connection.id);
      await clock({ reset: true });
      const accounts = await accountsOf(connection.id);
      expect(
        accounts.map((x) => x.reconciliation?.status),
        scenario,
      ).toContain(status);
    }
  });
});
