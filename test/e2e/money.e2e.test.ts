import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { body, client, newUser, PASSWORD, syncNow } from "./support";

const base = inject("baseUrl");
const { send } = client(base);

interface Reconciliation {
  status: string;
  difference: string;
  since: string | null;
}
interface Account {
  id: string;
  connection_id: string;
  type: string;
  classification: string;
  currency: string;
  balances: { current: string | null; available: string | null; as_of: string };
  reconciliation: Reconciliation | null;
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
interface FeedNotice extends Reconciliation {
  account_id: string;
  at: string;
}
interface Drift {
  account_id: string;
  user_id: string;
  connection_id: string;
  provider: string;
  currency: string;
  difference: string;
  since: string;
}

const DAY_S = 86_400;
const DAY_MS = DAY_S * 1000;
const SANDBOX_BANK = "SANDBOXFINANCE_SFIN0000";
/** The suite's administrator (ADMIN_EMAILS in global-setup.ts); another file may have registered it. */
const ADMIN_EMAIL = "admin@e2e.ledgerlink.test";

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const plusDays = (day: string, n: number) => dayOf(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS);
/** A decimal string (at most 2 places, as the sandbox bank sends) in integer cents, exactly. */
function cents(value: string | null | undefined): number {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(value));
  if (!m) throw new Error(`not a 2-place decimal: ${value}`);
  return (m[1] ? -1 : 1) * (Number(m[2]) * 100 + Number((m[3] ?? "").padEnd(2, "0")));
}

const get = async <T>(token: string, path: string) => body<T>(await send(path, { token }));
const post = async <T>(token: string, path: string, json: unknown, status = 200) =>
  body<T>(await send(path, { method: "POST", token, json }), status);

const accountsOf = async (token: string, connectionId: string) =>
  (await get<{ accounts: Account[] }>(token, `/api/v1/accounts?connection_id=${connectionId}`)).accounts;
const historyOf = async (token: string, accountId: string) =>
  (await get<{ balances: Point[]; next_cursor: string | null }>(token, `/api/v1/accounts/${accountId}/balances`))
    .balances;

/** The development sandbox clock: shared by the whole server (per isolate), so only ever moved relatively. */
const clock = (token: string, json: { advance_seconds: number } | { reset: true }) =>
  post<{ now: string; offset_seconds: number }>(token, "/api/v1/dev/sandbox/clock", json);

/** Connects the sandbox bank (GoCardless) for a login of its own, through its consent page. */
async function connectBank(token: string, scenario: string): Promise<string> {
  const login = `e2e-money-${scenario}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const started = await post<{ connection: { id: string }; authorization_url: string }>(
    token,
    "/api/v1/connections",
    { provider: "sandbox_gocardless", institution_id: SANDBOX_BANK, scenario, login },
    201,
  );
  const consent = await send(started.authorization_url);
  expect(consent.status, await consent.clone().text()).toBe(302);
  const handOff = await body<unknown>(
    await send(consent.headers.get("Location") as string, { headers: { Accept: "application/json" } }),
  );
  const { connection } = await post<{ connection: { id: string; status: string } }>(
    token,
    "/api/v1/connections/callback",
    handOff,
  );
  expect(connection).toMatchObject({ id: started.connection.id, status: "active" });
  return connection.id;
}

/** The suite's administrator: logs in, or registers first when no other file has yet. */
async function adminToken(): Promise<string> {
  const res = await send("/api/v1/auth/login", { method: "POST", json: { email: ADMIN_EMAIL, password: PASSWORD } });
  if (res.status === 200) return ((await res.json()) as { access_token: string }).access_token;
  return newUser(base, "admin", ADMIN_EMAIL);
}

/** One user's GoCardless connection and what its accounts said after each sync. */
interface Journey {
  token: string;
  connection: string;
  /** The accounts as listed after each sync (by simulated day). */
  after: Account[][];
}

// Two users, each with a sandbox bank login (an EUR current account and a GBP credit card), synced
// on three simulated days: day 0, day 1 and day 3 (day 2 is skipped), one sync per connection a
// day (3 of the bank's 4 a day). `ok` holds the default scenario; `drift` the scenario whose bank
// charges a fee a day from the second day on and never lists it.
//
// The sandbox clock is one per server (per isolate), shared by every test: this file moves it only
// relatively, only in `beforeAll`, and resets it there (and again in `afterAll`). The e2e project
// runs its files one at a time (`fileParallelism: false`), and the tests here run in sequence, so
// no other test sees the clock moved.
describe("money over time over HTTP (balance history, net worth, reconciliation)", () => {
  let ok: Journey;
  let drift: Journey;
  let admin = "";
  /** The simulated days of the three syncs (UTC dates of the sandbox clock). */
  const days: string[] = [];
  /** The drift user's change-feed cursor after the first sync. */
  let driftCursor = "";

  beforeAll(async () => {
    const [okToken, driftToken, adminAccess] = await Promise.all([
      newUser(base, "money-ok"),
      newUser(base, "money-drift"),
      adminToken(),
    ]);
    admin = adminAccess;
    ok = { token: okToken, connection: await connectBank(okToken, "default"), after: [] };
    drift = { token: driftToken, connection: await connectBank(driftToken, "drift"), after: [] };
    const both = [ok, drift];
    const syncBoth = async () => {
      const runs = await Promise.all(both.map((j) => syncNow(send, j.token, j.connection)));
      for (const r of runs) expect(r, JSON.stringify(r)).toMatchObject({ status: "succeeded", error: null });
      for (const j of both) j.after.push(await accountsOf(j.token, j.connection));
    };
    try {
      // A balance's day is the UTC date of its as_of (the sandbox clock): start well clear of
      // midnight, so that no sync of this file lands a day later than planned.
      let now = Date.parse((await get<{ now: string }>(ok.token, "/api/v1/dev/sandbox/clock")).now);
      const toMidnight = DAY_MS - (now % DAY_MS);
      if (toMidnight < 10 * 60_000) {
        now = Date.parse((await clock(ok.token, { advance_seconds: Math.ceil(toMidnight / 1000) + 60 })).now);
      }
      days.push(dayOf(now));
      await syncBoth();
      driftCursor = (await get<{ next_cursor: string }>(drift.token, "/api/v1/transactions/sync?count=500"))
        .next_cursor;
      for (const advance of [1, 2]) {
        now = Date.parse((await clock(ok.token, { advance_seconds: advance * DAY_S })).now);
        days.push(dayOf(now));
        await syncBoth();
      }
    } finally {
      await clock(ok.token, { reset: true });
    }
    expect(days).toEqual([days[0], plusDays(days[0] as string, 1), plusDays(days[0] as string, 3)]);
  }, 240_000);

  afterAll(async () => {
    if (ok?.token) await clock(ok.token, { reset: true });
  });

  it("keeps one balance point per account per synced day, and invents none for the skipped day", async () => {
    const accounts = ok.after.at(-1) as Account[];
    expect(accounts.map((a) => [a.type, a.classification, a.currency]).sort()).toEqual([
      ["checking", "asset", "EUR"],
      ["credit_card", "liability", "GBP"],
    ]);
    for (const account of accounts) {
      const points = await historyOf(ok.token, account.id);
      // Oldest first, one per synced day: day 0, day 1, day 3 (no day 2).
      expect(
        points.map((p) => p.date),
        account.type,
      ).toEqual(days);
      for (const [i, p] of points.entries()) {
        // The day is the UTC date of the provider's as_of, and the point is what the account said
        // after that day's sync: history is not rewritten by later syncs.
        expect(dayOf(Date.parse(p.as_of))).toBe(p.date);
        const then = ok.after[i]?.find((a) => a.id === account.id) as Account;
        expect({ current: p.current, available: p.available }).toEqual({
          current: then.balances.current,
          available: then.balances.available,
        });
        expect(p.cash).toBeNull();
      }
      // The last point is the account's balance now.
      expect(points.at(-1)?.current).toBe(account.balances.current);
    }
    // The sandbox bank's balances move from day to day (a transaction a day), so three points
    // are three observations, not one repeated.
    const eur = accounts.find((a) => a.currency === "EUR") as Account;
    const eurPoints = await historyOf(ok.token, eur.id);
    expect(new Set(eurPoints.map((p) => p.current)).size).toBeGreaterThan(1);
    // A range of one day answers that day; the skipped day answers nothing.
    const range = (from: string, to: string) =>
      get<{ balances: Point[] }>(ok.token, `/api/v1/accounts/${eur.id}/balances?from=${from}&to=${to}`);
    expect((await range(days[1] as string, days[1] as string)).balances.map((p) => p.date)).toEqual([days[1]]);
    const skipped = plusDays(days[1] as string, 1);
    expect((await range(skipped, skipped)).balances).toEqual([]);
  });

  it("answers a net worth per currency that matches the accounts' balances, carrying forward the skipped day", async () => {
    const accounts = ok.after.at(-1) as Account[];
    const first = days[0] as string;
    const last = days[2] as string;
    const worth = await get<Worth>(ok.token, `/api/v1/net-worth?from=${first}&to=${last}&interval=day`);
    expect(worth).toMatchObject({ from: first, to: last, interval: "day" });
    // One series per currency, never summed across them.
    expect(worth.currencies.map((c) => c.currency)).toEqual(["EUR", "GBP"]);
    for (const series of worth.currencies) {
      const account = accounts.find((a) => a.currency === series.currency) as Account;
      const points = await historyOf(ok.token, account.id);
      expect(series.points.map((p) => p.date)).toEqual([first, plusDays(first, 1), plusDays(first, 2), last]);
      // Day 2 had no sync: day 1's balance, carried forward and said to be.
      expect(series.points.map((p) => p.carried_forward)).toEqual([false, false, true, false]);
      const balanceOn = [points[0], points[1], points[1], points[2]].map((p) => cents(p?.current));
      for (const [i, p] of series.points.entries()) {
        expect(p.accounts).toBe(1);
        // net = assets + liabilities, exactly.
        expect(cents(p.net)).toBe(cents(p.assets) + cents(p.liabilities));
        if (account.classification === "asset") {
          expect([cents(p.assets), cents(p.liabilities)]).toEqual([balanceOn[i], 0]);
        } else {
          // The card counts in its provider's sign: owed, so negative.
          expect([cents(p.assets), cents(p.liabilities)]).toEqual([0, balanceOn[i]]);
        }
      }
      // The last point matches the account's balance as the accounts list shows it.
      const end = series.points.at(-1) as WorthPoint;
      expect(cents(end.net)).toBe(cents(account.balances.current));
      if (account.classification === "liability") expect(cents(end.liabilities)).toBeLessThan(0);
    }

    // Weekly and monthly: whatever the interval, the last point is `to`, with the same figures.
    const daily = new Map(worth.currencies.map((c) => [c.currency, c.points.at(-1)]));
    for (const interval of ["week", "month"]) {
      const other = await get<Worth>(ok.token, `/api/v1/net-worth?from=${first}&to=${last}&interval=${interval}`);
      expect(other.currencies.map((c) => c.currency)).toEqual(["EUR", "GBP"]);
      for (const c of other.currencies) {
        const end = c.points.at(-1) as WorthPoint;
        expect(end.date, interval).toBe(last);
        expect(end).toEqual(daily.get(c.currency));
      }
    }

    // Past the last sync, the last balance is carried forward to `to`.
    const later = plusDays(last, 2);
    const ahead = await get<Worth>(ok.token, `/api/v1/net-worth?from=${last}&to=${later}&interval=day`);
    for (const c of ahead.currencies) {
      expect(c.points.map((p) => [p.date, p.carried_forward])).toEqual([
        [last, false],
        [plusDays(last, 1), true],
        [later, true],
      ]);
      expect(new Set(c.points.map((p) => p.net)).size).toBe(1);
    }
  });

  it("the default scenario reconciles: ok on every account, nothing in the feed or the admin list", async () => {
    for (const [day, accounts] of ok.after.entries()) {
      for (const a of accounts) {
        expect(a.reconciliation, `day ${day} ${a.type}`).toEqual({ status: "ok", difference: "0", since: null });
      }
    }
    const feed = await get<{ reconciliation: FeedNotice[] }>(ok.token, "/api/v1/transactions/sync?count=500");
    expect(feed.reconciliation).toEqual([]);
    const listed = await driftList();
    for (const a of ok.after.at(-1) as Account[]) expect(listed.map((d) => d.account_id)).not.toContain(a.id);
  });

  it("the drift scenario drifts from the second day: on the account, in the change feed and in the admin list", async () => {
    const [day0, day1, day3] = drift.after as [Account[], Account[], Account[]];
    // The first sync is the baseline.
    for (const a of day0) expect(a.reconciliation).toEqual({ status: "ok", difference: "0", since: null });
    const histories = new Map(
      await Promise.all(day3.map(async (a) => [a.id, await historyOf(drift.token, a.id)] as const)),
    );
    for (const a of day3) {
      const points = histories.get(a.id) as Point[];
      expect(points.map((p) => p.date)).toEqual(days);
      // A fee of 2.50 a day the bank never lists: one by day 1, three by day 3. The drift began
      // with day 1's answer (its as_of) and keeps that start while it lasts.
      const since = points[1]?.as_of as string;
      const onDay1 = day1.find((x) => x.id === a.id) as Account;
      expect(onDay1.reconciliation, `${a.type} day 1`).toMatchObject({ status: "drift" });
      expect(cents(onDay1.reconciliation?.difference)).toBe(-250);
      expect(Date.parse(onDay1.reconciliation?.since as string)).toBe(Date.parse(since));
      expect(a.reconciliation, `${a.type} day 3`).toMatchObject({ status: "drift" });
      expect(cents(a.reconciliation?.difference)).toBe(-750);
      expect(Date.parse(a.reconciliation?.since as string)).toBe(Date.parse(since));
      // Nothing was "fixed": the balances are the bank's, not what the transactions explain.
      expect(points.at(-1)?.current).toBe(a.balances.current);
    }

    // The change feed since the first sync: each account's drift and its change, in order.
    const feed = await get<{ reconciliation: FeedNotice[] }>(
      drift.token,
      `/api/v1/transactions/sync?count=500&cursor=${encodeURIComponent(driftCursor)}`,
    );
    for (const a of day3) {
      const notices = feed.reconciliation.filter((n) => n.account_id === a.id);
      expect(
        notices.map((n) => [n.status, cents(n.difference), Date.parse(n.since as string)]),
        a.type,
      ).toEqual([
        ["drift", -250, Date.parse(a.reconciliation?.since as string)],
        ["drift", -750, Date.parse(a.reconciliation?.since as string)],
      ]);
    }
    expect(feed.reconciliation.every((n) => day3.some((a) => a.id === n.account_id))).toBe(true);

    // Administrators list both accounts, as the accounts show them.
    const listed = await driftList();
    for (const a of day3) {
      const entry = listed.find((d) => d.account_id === a.id);
      expect(entry, a.type).toMatchObject({
        connection_id: drift.connection,
        provider: "sandbox_gocardless",
        currency: a.currency,
      });
      expect(cents(entry?.difference)).toBe(-750);
      expect(Date.parse(entry?.since as string)).toBe(Date.parse(a.reconciliation?.since as string));
    }
    // Nobody else.
    expect((await send("/api/v1/admin/sync/drifts", { token: drift.token })).status).toBe(403);
  });

  /** Every page of the administrators' drift list. */
  async function driftList(): Promise<Drift[]> {
    const all: Drift[] = [];
    for (let cursor = ""; ; ) {
      const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page = await get<{ accounts: Drift[]; next_cursor: string | null }>(
        admin,
        `/api/v1/admin/sync/drifts?limit=100${query}`,
      );
      all.push(...page.accounts);
      if (!page.next_cursor) return all;
      cursor = page.next_cursor;
    }
  }
});
