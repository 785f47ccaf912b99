import { describe, expect, it } from "vitest";
import type { Logger } from "../../../src/logger";
import {
  createSimpleFinAdapter,
  inferKind,
  SIMPLEFIN_MAX_WINDOW_SECONDS,
} from "../../../src/providers/simplefin/adapter";
import { SetupTokenClaimedError, SetupTokenInvalidError } from "../../../src/providers/simplefin/setup-token";
import {
  createSimpleFinSetupTokenIssuer,
  createSimpleFinSimulator,
  type SimpleFinSimulatorOptions,
  simpleFinDemoSetupToken,
} from "../../../src/providers/simulators/simplefin";
import {
  MalformedResponseError,
  PaymentRequiredError,
  type RateLimitedError,
  ReauthRequiredError,
  TransientProviderError,
} from "../../../src/providers/types";
import { mountSim, reconcile, windowFrom } from "./sim-support";
import { DAY, DECIMAL, rejection, T0 } from "./support";

const TIMEOUTS = { connectMs: 2000, totalMs: 5000 };

function setup(options: SimpleFinSimulatorOptions = {}, rewrite?: (req: Request) => Request) {
  const sim = mountSim(
    "/sandbox/simplefin",
    (clock) => createSimpleFinSimulator({ secret: "test-secret", now: clock.now, ...options }),
    rewrite,
  );
  const issuer = createSimpleFinSetupTokenIssuer({ secret: "test-secret", baseUrl: sim.base, now: sim.clock.now });
  const logs: unknown[] = [];
  const logger = {
    debug: (...a: unknown[]) => logs.push(a),
    info: (...a: unknown[]) => logs.push(a),
    warn: (...a: unknown[]) => logs.push(a),
    error: (...a: unknown[]) => logs.push(a),
  } as unknown as Logger;
  const adapter = createSimpleFinAdapter({ fetch: sim.fetch, timeouts: TIMEOUTS, now: sim.clock.now, logger });
  return { sim, issuer, adapter, logs };
}

async function connected(
  scenario?: string,
  options: SimpleFinSimulatorOptions = {},
  rewrite?: (req: Request) => Request,
) {
  const s = setup(options, rewrite);
  const token = await s.issuer.issueSetupToken({ scenario });
  const accessUrl = await s.adapter.claimSetupToken(token);
  return { ...s, token, accessUrl };
}

const days = (s: { sim: { clock: { ms: number } } }, n: number) => windowFrom(s.sim.clock.ms - n * DAY, s.sim.clock.ms);
const dataCalls = (s: ReturnType<typeof setup>) => s.sim.calls.filter((c) => c.url.pathname.endsWith("/accounts"));

describe("SimpleFIN: setup token → access URL", () => {
  it("claims once with an empty POST; a second claim is 403 → SetupTokenClaimedError; nothing secret is logged", async () => {
    const s = setup();
    const token = await s.issuer.issueSetupToken({ scenario: "default", seed: "alice" });
    const claimUrl = atob(token);
    expect(claimUrl).toMatch(new RegExp(`^${s.sim.base}/claim/[A-Za-z0-9_.-]+$`));
    const accessUrl = await s.adapter.claimSetupToken(`  ${token}\n`);
    const parsed = new URL(accessUrl);
    expect(parsed.username).toMatch(/^sim-/);
    expect(parsed.password.length).toBeGreaterThan(20);
    expect(`${parsed.origin}${parsed.pathname}`).toBe(s.sim.base);
    const claim = s.sim.calls[0];
    expect(claim?.method).toBe("POST");
    expect(claim?.status).toBe(200);

    const again = await rejection(s.adapter.claimSetupToken(token));
    expect(again).toBeInstanceOf(SetupTokenClaimedError);
    expect(s.sim.calls.at(-1)?.status).toBe(403);
    expect(s.sim.calls.at(-1)?.body).toBe("Forbidden (was it already claimed?)");

    const code = claimUrl.split("/claim/")[1] as string;
    const logged = JSON.stringify(s.logs);
    expect(logged).not.toContain(code);
    expect(logged).not.toContain(parsed.password);
    expect(`${again.message} ${JSON.stringify(again)}`).not.toContain(code);
  });

  it("refuses malformed tokens before any request", async () => {
    const s = setup();
    const b64 = (t: string) => btoa(t);
    for (const bad of [
      "not base64 !!",
      b64("just words"),
      b64("ftp://bridge.example/claim/abc"),
      b64("https://bridge.example/simplefin/other/abc"),
      b64("https://user:pw@bridge.example/claim/abc"),
      b64("https://127.0.0.1/claim/abc"),
      b64("https://localhost/claim/abc"),
      b64("http://bridge.example/claim/abc"),
      // Names that reach inside: a trailing dot, a hosts-file name, wildcard DNS, cloud metadata.
      b64("https://localhost./claim/abc"),
      b64("https://vm:8813/claim/abc"),
      b64("https://10.0.0.1.nip.io/claim/abc"),
      b64("https://metadata.google.internal./claim/abc"),
      b64("https://0x7f000001/claim/abc"),
      b64("https://printer.home.arpa/claim/abc"),
    ]) {
      expect(await rejection(s.adapter.claimSetupToken(bad)), bad).toBeInstanceOf(SetupTokenInvalidError);
    }
    expect(s.sim.calls).toHaveLength(0);
  });

  it("the demo token can be claimed again and again; /info answers without auth", async () => {
    const s = setup();
    const demo = simpleFinDemoSetupToken(s.sim.base);
    const a = await s.adapter.claimSetupToken(demo);
    const b = await s.adapter.claimSetupToken(demo);
    expect(a).not.toBe(b);
    const info = await s.sim.fetch(`${s.sim.base}/info`);
    expect(await info.json()).toEqual({ versions: ["1.0"] });
  });
});

describe("SimpleFIN: snapshots", () => {
  it("one v2 request for a short window: accounts, kinds, pending and posted rows, exclusive end", async () => {
    const s = await connected();
    const snap = await s.adapter.snapshot(s.accessUrl, days(s, 30));
    const calls = dataCalls(s);
    expect(calls).toHaveLength(1);
    const q = calls[0]?.url.searchParams;
    expect(q?.get("version")).toBe("2");
    expect(q?.get("pending")).toBe("1");
    expect(Number(q?.get("end-date"))).toBe(T0 / 1000 + 1);
    expect(Number(q?.get("end-date")) - Number(q?.get("start-date"))).toBe(SIMPLEFIN_MAX_WINDOW_SECONDS);
    expect(calls[0]?.url.username).toBe("");
    expect(snap.warnings).toEqual([]);
    const [checking, card] = snap.accounts;
    expect(checking?.account).toMatchObject({
      name: "Everyday Checking",
      kind: "checking",
      currency: "USD",
      type: "simplefin",
    });
    expect(card?.account).toMatchObject({ name: "Rewards Visa Card", kind: "credit_card" });
    expect(Number(card?.account.balances.current)).toBeLessThan(0);
    for (const a of snap.accounts) {
      expect(a.account.providerAccountId).toMatch(/^ACT-/);
      expect(a.account.accountNumberMasked).toBe(`••••${a.account.providerAccountId.slice(-4)}`);
      expect(a.account.balances.asOf.getTime()).toBe(T0);
      const pending = a.transactions.filter((t) => t.status === "pending");
      expect(pending).toHaveLength(1);
      const posted = a.transactions.filter((t) => t.status === "posted");
      expect(posted.length).toBeGreaterThanOrEqual(28);
      for (const t of a.transactions) {
        expect(t.providerTransactionId).toMatch(/^TRN-/);
        expect(t.amount).toMatch(DECIMAL);
        expect(t.date.getTime()).toBeGreaterThanOrEqual(T0 - 30 * DAY);
        expect(t.date.getTime()).toBeLessThanOrEqual(T0);
      }
    }
    expect(JSON.stringify(snap)).not.toContain(new URL(s.accessUrl).password);
  });

  it("a day later: new rows, pending posted under a new id, balances reconcile", async () => {
    const s = await connected();
    const first = await s.adapter.snapshot(s.accessUrl, days(s, 30));
    s.sim.clock.advance(DAY);
    const second = await s.adapter.snapshot(s.accessUrl, days(s, 5));
    for (const [i, a] of second.accounts.entries()) {
      const old = first.accounts[i]?.transactions.find((t) => t.status === "pending");
      expect(a.transactions.some((t) => t.providerTransactionId === old?.providerTransactionId)).toBe(false);
      const booked = a.transactions.filter(
        (t) => t.status === "posted" && t.amount === old?.amount && t.description === old?.description,
      );
      expect(booked).toHaveLength(1);
      expect(booked[0]?.date.getTime()).toBe((old?.date.getTime() ?? 0) + DAY);
    }
    for (const r of reconcile(first, second)) {
      expect(r.added).toBe(1);
      expect(r.change).toBe(r.posted);
    }
  });

  it("chunks windows over 90 days (end exclusive, contiguous) and merges per account", async () => {
    const s = await connected();
    const snap = await s.adapter.snapshot(s.accessUrl, days(s, 200));
    const calls = dataCalls(s);
    const spans = calls.map((c) => [
      Number(c.url.searchParams.get("start-date")),
      Number(c.url.searchParams.get("end-date")),
    ]);
    const end = T0 / 1000 + 1;
    expect(spans).toEqual([
      [end - 90 * 86_400, end],
      [end - 180 * 86_400, end - 90 * 86_400],
      [T0 / 1000 - 200 * 86_400, end - 180 * 86_400],
    ]);
    expect(calls[0]?.url.searchParams.getAll("account")).toEqual([]);
    expect(calls[1]?.url.searchParams.getAll("account")).toHaveLength(2);
    expect(snap.warnings.find((w) => w.code === "gen.api")).toBeUndefined();
    for (const a of snap.accounts) {
      const ids = a.transactions.map((t) => t.providerTransactionId);
      expect(new Set(ids).size).toBe(ids.length);
      // 120 days of history: rows older than the first chunk arrived from the second.
      const oldest = Math.min(...a.transactions.map((t) => t.date.getTime()));
      expect(oldest).toBeLessThan(T0 - 100 * DAY);
      expect(a.transactions.filter((t) => t.status === "posted").length).toBeGreaterThanOrEqual(118);
    }
  });

  it("asks older chunks only for accounts whose window reaches back", async () => {
    const s = await connected();
    const first = await s.adapter.snapshot(s.accessUrl, days(s, 10));
    const checkingId = first.accounts[0]?.account.providerAccountId as string;
    const before = dataCalls(s).length;
    await s.adapter.snapshot(s.accessUrl, {
      end: new Date(T0),
      startFor: (id) => new Date(id === checkingId ? T0 - 5 * DAY : T0 - 100 * DAY),
    });
    const calls = dataCalls(s).slice(before);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.url.searchParams.getAll("account")).toEqual([first.accounts[1]?.account.providerAccountId]);
  });

  it("the simulator caps a window over 90 days with the gen.api warning", async () => {
    const s = await connected();
    const u = new URL(s.accessUrl);
    const auth = `Basic ${btoa(`${u.username}:${u.password}`)}`;
    const res = await s.sim.fetch(
      `${s.sim.base}/accounts?version=2&start-date=${T0 / 1000 - 100 * 86_400}&end-date=${T0 / 1000}`,
      {
        headers: { Authorization: auth },
      },
    );
    const body = (await res.json()) as { errlist: { code: string; msg: string }[] };
    expect(body.errlist).toEqual([
      { code: "gen.api", msg: "Requested date range exceeds limit of 90 days and was capped." },
    ]);
  });

  it("v1 answers (no version) parse to the same snapshot", async () => {
    const dropVersion = (req: Request) => {
      const url = new URL(req.url);
      url.searchParams.delete("version");
      return new Request(url, req);
    };
    const v1 = await connected("default", {}, dropVersion);
    const v2 = await connected("default");
    const a = await v1.adapter.snapshot(v1.accessUrl, days(v1, 30));
    const b = await v2.adapter.snapshot(v2.accessUrl, days(v2, 30));
    const rawV1 = JSON.parse(dataCalls(v1)[0]?.body ?? "{}") as Record<string, unknown>;
    expect(rawV1).toHaveProperty("errors");
    expect(rawV1).not.toHaveProperty("errlist");
    expect((rawV1.accounts as { org?: unknown }[])[0]?.org).toBeDefined();
    expect(a).toEqual(b);
  });
});

describe("SimpleFIN: scenarios", () => {
  it("partial_errors: warnings in our words (reauth for 'may need attention'), good data kept", async () => {
    const s = await connected("partial_errors");
    const snap = await s.adapter.snapshot(s.accessUrl, days(s, 30));
    expect(snap.accounts).toHaveLength(2);
    expect(snap.accounts.every((a) => a.transactions.length > 20)).toBe(true);
    const card = snap.accounts[1]?.account.providerAccountId;
    expect(snap.warnings).toEqual([
      {
        code: "con.auth",
        message: "A bank login at SimpleFIN Bridge needs attention (Example Card Co): sign in to the Bridge to fix it.",
        providerAccountId: null,
        reauth: true,
      },
      { code: "act", message: "SimpleFIN Bridge reports a problem with an account.", providerAccountId: card },
    ]);
  });

  it("partial_errors over v1: the 'may need attention' text alone marks re-auth", async () => {
    const drop = (req: Request) => {
      const url = new URL(req.url);
      url.searchParams.delete("version");
      return new Request(url, req);
    };
    const s = await connected("partial_errors", {}, drop);
    const snap = await s.adapter.snapshot(s.accessUrl, days(s, 30));
    expect(snap.warnings.map((w) => [w.code, w.reauth ?? false])).toEqual([
      ["con.auth", true],
      ["gen", false],
    ]);
    expect(JSON.stringify(snap.warnings)).not.toContain("Account data is being refreshed");
  });

  it("quota: warnings after a few requests a day, then the access URL is disabled (403 → re-auth)", async () => {
    const s = await connected("quota");
    const seen: string[][] = [];
    for (let i = 0; i < 6; i++)
      seen.push((await s.adapter.snapshot(s.accessUrl, days(s, 10))).warnings.map((w) => w.code));
    expect(seen).toEqual([[], [], [], ["quota"], ["quota"], ["quota"]]);
    const err = await rejection(s.adapter.snapshot(s.accessUrl, days(s, 10)));
    expect(err).toBeInstanceOf(ReauthRequiredError);
    expect((err as ReauthRequiredError).status).toBe(403);
    expect((err as ReauthRequiredError).detail).toMatch(/^access_revoked/);
    // Disabled for good, even the next day.
    s.sim.clock.advance(DAY);
    expect(await rejection(s.adapter.snapshot(s.accessUrl, days(s, 10)))).toBeInstanceOf(ReauthRequiredError);
  });

  it("drift: from the second day the balance moves by more than the posted rows", async () => {
    const s = await connected("drift");
    const first = await s.adapter.snapshot(s.accessUrl, days(s, 30));
    s.sim.clock.advance(DAY);
    const second = await s.adapter.snapshot(s.accessUrl, days(s, 30));
    for (const r of reconcile(first, second)) expect(r.change).not.toBe(r.posted);
  });

  it("holdings: a brokerage account's holdings become ProviderHoldings", async () => {
    const s = await connected("holdings");
    const snap = await s.adapter.snapshot(s.accessUrl, days(s, 30));
    const broker = snap.accounts[2]?.account;
    expect(broker?.kind).toBe("brokerage");
    expect(broker?.holdings.map((h) => [h.symbol, h.quantity, h.marketValue, h.price])).toEqual([
      ["VTI", "12.5", "3593.13", "287.4504"],
      ["AAPL", "3", "595.5", "198.5"],
    ]);
    expect(broker?.balances.current).toBe("4188.63");
  });
});

describe("SimpleFIN: errors and odd answers", () => {
  const answering = (status: number, body: string, headers: Record<string, string> = {}) => {
    const fetch: typeof globalThis.fetch = async () => new Response(body, { status, headers });
    return createSimpleFinAdapter({ fetch, timeouts: TIMEOUTS });
  };
  const url = "https://user:secretpass@bridge.example/simplefin";

  it("maps statuses to kinds", async () => {
    const w = windowFrom(T0 - DAY, T0);
    expect(await rejection(answering(402, "Payment Required").snapshot(url, w))).toBeInstanceOf(PaymentRequiredError);
    const forbidden = await rejection(
      answering(403, "<html><title>Forbidden</title></html>", { "Content-Type": "text/html" }).snapshot(url, w),
    );
    expect(forbidden).toBeInstanceOf(ReauthRequiredError);
    const quota = (await rejection(
      answering(429, "Too many requests", { "Retry-After": "60" }).snapshot(url, w),
    )) as RateLimitedError;
    expect([quota.reason, quota.retryAfterSeconds]).toEqual(["daily_quota", 60]);
    const proxy = (await rejection(
      answering(429, "<html>rate limited</html>", { "Content-Type": "text/html" }).snapshot(url, w),
    )) as RateLimitedError;
    expect(proxy.reason).toBe("burst");
    expect(await rejection(answering(500, "oops").snapshot(url, w))).toBeInstanceOf(TransientProviderError);
    expect(
      await rejection(answering(200, "<html></html>", { "Content-Type": "text/html" }).snapshot(url, w)),
    ).toBeInstanceOf(MalformedResponseError);
    const bad = await rejection(answering(200, "{}").snapshot("https://bridge.example/simplefin", w));
    expect(bad).toBeInstanceOf(ReauthRequiredError);
  });

  it("keeps a currency URL verbatim and dates pending rows by transacted_at", async () => {
    const body = {
      errors: [],
      accounts: [
        {
          org: { domain: "miles.example", "sfin-url": "https://x" },
          id: "ACT-1",
          name: "Frequent Flyer",
          currency: "https://www.example.com/flight-miles",
          balance: "123",
          "balance-date": T0 / 1000,
          transactions: [
            {
              id: "T1",
              posted: 0,
              amount: "-5",
              description: "pending",
              transacted_at: T0 / 1000 - 3600,
              pending: true,
            },
            { id: "T2", posted: T0 / 1000 - 7200, amount: "10.50", description: "posted" },
            { id: "T3", posted: 0, amount: "1", description: "undated" },
          ],
        },
      ],
    };
    const snap = await answering(200, JSON.stringify(body), { "Content-Type": "application/json" }).snapshot(
      url,
      windowFrom(T0 - DAY, T0),
    );
    const a = snap.accounts[0];
    expect(a?.account.currency).toBe("https://www.example.com/flight-miles");
    expect(a?.transactions.map((t) => [t.providerTransactionId, t.status, t.date.getTime(), t.currency])).toEqual([
      ["T2", "posted", T0 - 7_200_000, "https://www.example.com/flight-miles"],
      ["T1", "pending", T0 - 3_600_000, "https://www.example.com/flight-miles"],
    ]);
    expect(snap.warnings.map((w) => w.code)).toEqual(["transactions_undated"]);
    expect(a?.account.balances.available).toBe("123");
  });

  it("infers account kinds conservatively", () => {
    const k = (name: string, balance = "10", extra?: Record<string, unknown>) =>
      inferKind({ name, balance, holdings: null, extra });
    expect(k("Chase Sapphire Visa")).toBe("credit_card");
    expect(k("Debit Card Account")).toBe("checking");
    expect(k("High Yield Savings")).toBe("savings");
    expect(k("Auto Loan", "-5000")).toBe("loan");
    expect(k("Roth IRA")).toBe("brokerage");
    expect(k("Account 1234", "-20")).toBe("other");
    expect(k("Account 1234", "0", { type: "credit" })).toBe("credit_card");
  });

  it("unknown routes answer 404 as text; the access URL needs Basic auth", async () => {
    const s = await connected();
    expect((await s.sim.fetch(`${s.sim.base}/nowhere`)).status).toBe(404);
    expect((await s.sim.fetch(`${s.sim.base}/accounts`)).status).toBe(403);
  });
});

describe("SimpleFIN simulator: query semantics", () => {
  it("pending rows come with the parameter present whatever its value; balances-only and account= filter", async () => {
    const s = await connected();
    const u = new URL(s.accessUrl);
    const get = async (query: string) => {
      const res = await s.sim.fetch(`${s.sim.base}/accounts?${query}`, {
        headers: { Authorization: `Basic ${btoa(`${u.username}:${u.password}`)}` },
      });
      return (await res.json()) as { accounts: { id: string; transactions?: { pending?: boolean }[] }[] };
    };
    const pendingOf = (b: Awaited<ReturnType<typeof get>>) =>
      b.accounts.flatMap((a) => a.transactions ?? []).filter((t) => t.pending);
    expect(pendingOf(await get(""))).toHaveLength(0);
    expect(pendingOf(await get("pending=0"))).toHaveLength(2);
    expect(pendingOf(await get("pending=1"))).toHaveLength(2);
    const balances = await get("balances-only=1");
    expect(balances.accounts.every((a) => a.transactions === undefined)).toBe(true);
    const one = await get(`account=${balances.accounts[1]?.id}`);
    expect(one.accounts.map((a) => a.id)).toEqual([balances.accounts[1]?.id]);
  });
});
