import { describe, expect, it } from "vitest";
import { decimalAdd, decimalMul, decimalSub } from "../../../src/home/money";
import { type AlpacaGrant, createAlpacaAdapter, parseAlpacaCredential } from "../../../src/providers/alpaca/adapter";
import {
  type AlpacaSimulatorOptions,
  alpacaSimulatorUrls,
  createAlpacaSimulator,
} from "../../../src/providers/simulators/alpaca";
import {
  ProviderRejectedError,
  RateLimitedError,
  ReauthRequiredError,
  TransientProviderError,
} from "../../../src/providers/types";
import { mountSim, reconcile, sum, windowFrom } from "./sim-support";
import { DAY, DECIMAL, REDIRECT_URI, rejection, T0 } from "./support";

const CLIENT = { clientId: "alpaca-client", clientSecret: "alpaca-secret" };
const TIMEOUTS = { connectMs: 2000, totalMs: 5000 };

function setup(options: AlpacaSimulatorOptions = {}) {
  const sim = mountSim("/sandbox/alpaca", (clock) =>
    createAlpacaSimulator({ secret: "test-secret", ...CLIENT, now: clock.now, ...options }),
  );
  const adapter = createAlpacaAdapter({
    ...CLIENT,
    ...alpacaSimulatorUrls(sim.base),
    fetch: sim.fetch,
    timeouts: TIMEOUTS,
    now: sim.clock.now,
  });
  return { sim, adapter };
}

async function authorize(s: ReturnType<typeof setup>, opts: { scenario?: string; env?: string; login?: string } = {}) {
  const url = new URL(
    s.adapter.authorizationUrl({ state: "st-1", redirectUri: REDIRECT_URI, scenario: opts.scenario }),
  );
  if (opts.env) url.searchParams.set("env", opts.env);
  if (opts.login) url.searchParams.set("login", opts.login);
  const res = await s.sim.fetch(url, { redirect: "manual" });
  expect(res.status).toBe(302);
  return new URL(res.headers.get("Location") as string);
}

async function connected(opts: { scenario?: string; env?: string } = {}, options: AlpacaSimulatorOptions = {}) {
  const s = setup(options);
  const back = await authorize(s, opts);
  const grant = await s.adapter.exchangeCode({
    code: back.searchParams.get("code") as string,
    redirectUri: REDIRECT_URI,
  });
  return { ...s, grant };
}

const year = (s: { sim: { clock: { ms: number } } }) => windowFrom(s.sim.clock.ms - 365 * DAY, s.sim.clock.ms);
const activityCalls = (s: ReturnType<typeof setup>) =>
  s.sim.calls.filter((c) => c.url.pathname.endsWith("/account/activities"));

describe("Alpaca: OAuth", () => {
  it("authorize → code → form-encoded exchange → environment probe", async () => {
    const s = setup();
    const url = new URL(s.adapter.authorizationUrl({ state: "st-1", redirectUri: REDIRECT_URI }));
    expect(`${url.origin}${url.pathname}`).toBe(`${s.sim.base}/app/oauth/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: "code",
      client_id: CLIENT.clientId,
      redirect_uri: REDIRECT_URI,
      state: "st-1",
    });
    const back = await authorize(s);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
    expect(back.searchParams.get("state")).toBe("st-1");
    const code = back.searchParams.get("code") as string;
    const grant = await s.adapter.exchangeCode({ code, redirectUri: REDIRECT_URI });
    expect(grant).toMatchObject({
      refreshToken: null,
      accessTokenExpiresAt: null,
      refreshTokenExpiresAt: null,
      environments: ["paper"],
    });
    expect(grant.credential).toBe(`paper:${grant.accessToken}`);
    expect(parseAlpacaCredential(grant.credential)).toEqual({ environments: ["paper"], token: grant.accessToken });

    const token = s.sim.calls.find((c) => c.url.pathname.endsWith("/oauth/token"));
    expect(token?.status).toBe(200);
    const probes = s.sim.calls.filter((c) => c.url.pathname.endsWith("/v2/account"));
    expect(probes.map((p) => [p.url.pathname, p.status]).sort()).toEqual([
      ["/sandbox/alpaca/api/v2/account", 403],
      ["/sandbox/alpaca/paper-api/v2/account", 200],
    ]);
    // A code works once.
    expect(await rejection(s.adapter.exchangeCode({ code, redirectUri: REDIRECT_URI }))).toBeInstanceOf(
      ReauthRequiredError,
    );
  });

  it("the token endpoint takes form bodies only: JSON is 401 invalid_client", async () => {
    const s = setup();
    const back = await authorize(s);
    const res = await s.sim.fetch(`${s.sim.base}/api/oauth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        grant_type: "authorization_code",
        code: back.searchParams.get("code"),
        ...CLIENT,
        redirect_uri: REDIRECT_URI,
      }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: 40110000, message: "invalid_client" });
    const wrong = createAlpacaAdapter({
      ...CLIENT,
      clientSecret: "nope",
      ...alpacaSimulatorUrls(s.sim.base),
      fetch: s.sim.fetch,
      timeouts: TIMEOUTS,
    });
    expect(
      await rejection(wrong.exchangeCode({ code: back.searchParams.get("code") as string, redirectUri: REDIRECT_URI })),
    ).toBeInstanceOf(ReauthRequiredError);
  });

  it("a token for live and paper reads both accounts", async () => {
    const s = await connected({ env: "both" });
    expect(s.grant.environments).toEqual(["live", "paper"]);
    expect(s.grant.credential.startsWith("live+paper:")).toBe(true);
    const snap = await s.adapter.snapshot(s.grant.credential, year(s));
    expect(snap.accounts.map((a) => a.account.name.split(" ").slice(0, 2).join(" "))).toEqual([
      "Alpaca Live",
      "Alpaca Paper",
    ]);
    expect(snap.accounts[0]?.account.providerAccountId).not.toBe(snap.accounts[1]?.account.providerAccountId);
  });
});

describe("Alpaca: snapshots", () => {
  it("account, balances, holdings (shorts negative) and every activity through pages of 100", async () => {
    const s = await connected();
    const snap = await s.adapter.snapshot(s.grant.credential, year(s));
    expect(snap.accounts).toHaveLength(1);
    const { account, transactions } = snap.accounts[0] as (typeof snap.accounts)[number];
    const raw = JSON.parse(s.sim.calls.find((c) => c.url.pathname.endsWith("/paper-api/v2/account"))?.body ?? "{}");
    expect(account).toMatchObject({
      providerAccountId: raw.id,
      accountNumberMasked: `••••${raw.account_number.slice(-4)}`,
      kind: "brokerage",
      type: "margin",
      currency: "USD",
    });
    expect(account.balances).toMatchObject({ current: raw.equity, available: raw.cash, cash: raw.cash });
    const mv = sum(account.holdings.map((h) => h.marketValue as string));
    expect(decimalAdd(raw.cash, mv)).toBe(raw.equity);
    const tsla = account.holdings.find((h) => h.symbol === "TSLA");
    expect(tsla?.quantity.startsWith("-")).toBe(true);
    expect(tsla?.marketValue?.startsWith("-")).toBe(true);
    expect(account.holdings.find((h) => h.symbol === "BTCUSD")).toMatchObject({
      assetType: "crypto",
      quantity: "0.123456789",
    });
    expect(account.holdings.find((h) => h.symbol === "AAPL")?.assetType).toBe("equity");

    // 250 activities in the year, one canceled dividend left out.
    const calls = activityCalls(s);
    expect(calls.map((c) => c.url.searchParams.get("page_token") === null)).toEqual([true, false, false]);
    expect(calls[0]?.url.searchParams.get("direction")).toBe("asc");
    expect(calls[0]?.url.searchParams.get("page_size")).toBe("100");
    const bodies = calls.map((c) => JSON.parse(c.body) as { id: string; status?: string }[]);
    expect(bodies.map((b) => b.length)).toEqual([100, 100, 51]);
    expect(calls[1]?.url.searchParams.get("page_token")).toBe(bodies[0]?.at(-1)?.id);
    expect(bodies.flat().filter((a) => a.status === "canceled")).toHaveLength(1);
    expect(transactions).toHaveLength(250);
    expect(new Set(transactions.map((t) => t.providerTransactionId)).size).toBe(250);
    for (const t of transactions) {
      expect(t.providerTransactionId).toMatch(/^\d{17}::[0-9a-f-]{36}$/);
      expect(t.amount).toMatch(DECIMAL);
      expect(t.status).toBe("posted");
    }
    const fills = transactions.filter((t) => t.type === "fill");
    expect(fills.length).toBeGreaterThan(100);
    for (const f of fills) {
      const gross = decimalMul(f.price as string, f.quantity?.replace("-", "") as string);
      expect(f.amount).toBe(f.quantity?.startsWith("-") ? gross : `-${gross}`);
    }
    const types = new Set(transactions.map((t) => t.type));
    expect(types).toEqual(new Set(["fill", "div", "csd", "fee", "other"]));
    expect(transactions.find((t) => t.type === "other")?.raw.activityType).toBe("REBATE");
  });

  it("cash = opening + every posted activity, the same opening a day later; the second sync adds one activity", async () => {
    const s = await connected();
    const wide = () => windowFrom(T0 - 400 * DAY, s.sim.clock.ms);
    const first = await s.adapter.snapshot(s.grant.credential, wide());
    const opening = (snap: typeof first) =>
      decimalSub(
        snap.accounts[0]?.account.balances.cash as string,
        sum(snap.accounts[0]?.transactions.map((t) => t.amount) ?? []),
      );
    s.sim.clock.advance(DAY);
    const before = activityCalls(s).length;
    const second = await s.adapter.snapshot(s.grant.credential, windowFrom(s.sim.clock.ms - 3 * DAY, s.sim.clock.ms));
    expect(activityCalls(s).length - before).toBe(1);
    expect(opening(await s.adapter.snapshot(s.grant.credential, wide()))).toBe(opening(first));
    const [r] = reconcile(first, second, "cash");
    expect(r?.added).toBe(1);
    expect(r?.change).toBe(r?.posted);
  });

  it("drift: cash moves without an activity from the second day", async () => {
    const s = await connected({ scenario: "drift" });
    const first = await s.adapter.snapshot(s.grant.credential, year(s));
    s.sim.clock.advance(DAY);
    const second = await s.adapter.snapshot(s.grant.credential, year(s));
    const [r] = reconcile(first, second, "cash");
    expect(decimalSub(r?.change as string, r?.posted as string)).toBe("-1");
  });

  it("revoked: the exchange works, later data calls answer 401 → re-authorization", async () => {
    const s = await connected({ scenario: "revoked" });
    await s.adapter.snapshot(s.grant.credential, year(s));
    s.sim.clock.advance(1_800_000);
    const err = await rejection(s.adapter.snapshot(s.grant.credential, year(s)));
    expect(err).toBeInstanceOf(ReauthRequiredError);
    expect((err as ReauthRequiredError).status).toBe(401);
    expect(s.sim.calls.at(-1)?.body).toBe('{"code":40110000,"message":"request is not authorized"}');
  });

  it("rate limits: X-RateLimit-* on every answer; over the limit a 429 with the wait until the reset", async () => {
    const s = await connected({}, { rateLimitPerMinute: 4 });
    const last = s.sim.calls.at(-1);
    expect(last?.headers.get("X-RateLimit-Limit")).toBe("4");
    // The two probes (live and paper) spent two of the four.
    expect(last?.headers.get("X-RateLimit-Remaining")).toBe("2");
    s.sim.clock.advance(30_000);
    const err = (await rejection(s.adapter.snapshot(s.grant.credential, year(s)))) as RateLimitedError;
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.reason).toBe("burst");
    expect(err.retryAfterSeconds).toBe(30);
  });
});

describe("Alpaca: error mapping", () => {
  const grant = { credential: "paper:tok" } as AlpacaGrant;
  const answering = (byPath: (path: string) => [number, string, Record<string, string>?]) =>
    createAlpacaAdapter({
      ...CLIENT,
      fetch: async (input) => {
        const [status, body, headers] = byPath(new URL(new Request(input).url).pathname);
        return new Response(body, { status, headers: headers ?? { "Content-Type": "application/json" } });
      },
      timeouts: TIMEOUTS,
    });
  const w = windowFrom(T0 - DAY, T0);
  const account = JSON.stringify({ id: "acct-1", status: "ACTIVE", cash: "1", equity: "1" });

  it("403 on the account is re-auth; 403 elsewhere is a refusal; HTML and 5xx are handled", async () => {
    expect(
      await rejection(
        answering(() => [403, "Forbidden", { "Content-Type": "text/plain" }]).snapshot(grant.credential, w),
      ),
    ).toBeInstanceOf(ReauthRequiredError);
    const positions403 = answering((p) =>
      p.endsWith("/account") ? [200, account] : [403, '{"code":40310000,"message":"forbidden"}'],
    );
    const e = await rejection(positions403.snapshot(grant.credential, w));
    expect(e).toBeInstanceOf(ProviderRejectedError);
    expect((e as ProviderRejectedError).detail).toBe("forbidden");
    const html401 = answering(() => [401, "<html><title>401</title></html>", { "Content-Type": "text/html" }]);
    expect(await rejection(html401.snapshot(grant.credential, w))).toBeInstanceOf(ReauthRequiredError);
    const gateway = answering(() => [504, "Gateway Timeout", { "Content-Type": "text/plain" }]);
    expect(await rejection(gateway.snapshot(grant.credential, w))).toBeInstanceOf(TransientProviderError);
    expect(await rejection(gateway.snapshot("tok-without-env", w))).toBeInstanceOf(ProviderRejectedError);
  });

  it("unknown routes answer 404 in Alpaca's shape", async () => {
    const s = setup();
    const res = await s.sim.fetch(`${s.sim.base}/api/v3/nothing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: 40410000, message: "endpoint not found" });
  });
});

describe("Alpaca simulator: internal errors", () => {
  it("answer 500 in Alpaca's shape", async () => {
    const { createSimSigner } = await import("../../../src/providers/simulators/shared/signer");
    const s = setup();
    // A genuine token without its environments makes the simulator throw.
    const token = await createSimSigner("alpaca|test-secret").id("alpaca-token", {
      x: "default",
      l: "x",
      at: T0,
      n: "n",
    });
    const res = await s.sim.fetch(`${s.sim.base}/paper-api/v2/account`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: 50010000, message: "internal server error" });
  });
});
