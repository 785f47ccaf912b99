import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createGoCardlessAdapter } from "../../../src/providers/gocardless/adapter";
import {
  type AppTokenSource,
  createGoCardlessHttp,
  memoryAppTokens,
  mintAppToken,
  refreshAppToken,
} from "../../../src/providers/gocardless/app-token";
import { AppTokenRefusedError } from "../../../src/providers/gocardless/errors";
import {
  createGoCardlessSimulator,
  type GoCardlessSimulatorOptions,
} from "../../../src/providers/simulators/gocardless";
import {
  MalformedResponseError,
  ProviderRejectedError,
  RateLimitedError,
  ReauthRequiredError,
  TransientProviderError,
} from "../../../src/providers/types";
import { mountSim, reconcile, sum, windowFrom } from "./sim-support";
import { DAY, DECIMAL, rejection, T0 } from "./support";

const SECRETS = { secretId: "sim-secret-id", secretKey: "sim-secret-key" };
const REDIRECT = "https://app.ledgerlink.test/connect/gocardless/return";
const TIMEOUTS = { connectMs: 2000, totalMs: 5000 };
let refs = 0;

function setup(options: GoCardlessSimulatorOptions = {}) {
  const sim = mountSim("/sandbox/gocardless", (clock) =>
    createGoCardlessSimulator({ secret: "test-secret", ...SECRETS, now: clock.now, ...options }),
  );
  const baseUrl = `${sim.base}/api/v2`;
  const gc = createGoCardlessHttp({ fetch: sim.fetch, timeouts: TIMEOUTS, baseUrl, now: sim.clock.now });
  const inner = memoryAppTokens(gc, SECRETS);
  const rejected: string[] = [];
  const tokens: AppTokenSource = {
    get: () => inner.get(),
    rejected: async (t) => {
      rejected.push(t);
      await inner.rejected(t);
    },
  };
  const adapter = createGoCardlessAdapter({
    baseUrl,
    fetch: sim.fetch,
    timeouts: TIMEOUTS,
    tokens,
    now: sim.clock.now,
  });
  return { sim, gc, adapter, tokens, rejected, baseUrl };
}

type Setup = ReturnType<typeof setup>;

/** Consent end to end: agreement + requisition, the bank's page, back with ?ref=. */
async function link(s: Setup, opts: { scenario?: string; login?: string; institutionId?: string } = {}) {
  const reference = `ref-${++refs}`;
  const started = await s.adapter.startConsent({
    institutionId: opts.institutionId ?? "SANDBOXFINANCE_SFIN0000",
    redirect: REDIRECT,
    reference,
    scenario: opts.scenario,
    login: opts.login,
  });
  const page = await s.sim.fetch(started.link, { redirect: "manual" });
  const back = new URL(page.headers.get("Location") ?? "about:blank");
  return { started, page, back, reference };
}

async function linked(opts: { scenario?: string; login?: string } = {}, options: GoCardlessSimulatorOptions = {}) {
  const s = setup(options);
  const l = await link(s, opts);
  const done = await s.adapter.completeConsent(l.started.requisitionId);
  return { ...s, ...l, done, requisitionId: l.started.requisitionId };
}

const fullWindow = (s: Setup) => windowFrom(s.sim.clock.ms - 89 * DAY, s.sim.clock.ms);

async function sha256Hex(text: string) {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("GoCardless: app tokens", () => {
  it("mints a pair, refreshes the access token, and refuses wrong secrets as a config problem", async () => {
    const s = setup();
    const pair = await mintAppToken(s.gc, SECRETS);
    expect(pair.accessExpiresAt.getTime()).toBe(T0 + 86_400_000);
    expect(pair.refreshExpiresAt.getTime()).toBe(T0 + 2_592_000_000);
    expect(pair.access.split(".")).toHaveLength(3);
    s.sim.clock.advance(DAY + 1000);
    const renewed = await refreshAppToken(s.gc, pair.refresh);
    expect(renewed.accessExpiresAt.getTime()).toBe(s.sim.clock.ms + 86_400_000);
    const bad = await rejection(mintAppToken(s.gc, { secretId: "x", secretKey: "y" }));
    expect(bad).toBeInstanceOf(AppTokenRefusedError);
    expect((bad as ProviderRejectedError).kind).toBe("rejected");
    expect((bad as ProviderRejectedError).status).toBe(401);
    expect(await rejection(refreshAppToken(s.gc, "not-a-token"))).toBeInstanceOf(AppTokenRefusedError);
  });

  it("the mint limit answers 429 with the wait from the detail", async () => {
    const s = setup({ mintLimitPerHour: 2 });
    await mintAppToken(s.gc, SECRETS);
    await mintAppToken(s.gc, SECRETS);
    s.sim.clock.advance(600_000);
    const err = await rejection(mintAppToken(s.gc, SECRETS));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).reason).toBe("burst");
    expect((err as RateLimitedError).retryAfterSeconds).toBe(3000);
  });

  it("a refused app token is reported once and the call retried with a fresh one", async () => {
    const s = setup();
    const first = await s.tokens.get();
    // The simulator's access tokens last a day; past that the cached one is refused ("Invalid token").
    const stale = setup();
    const staleAdapter = createGoCardlessAdapter({
      baseUrl: s.baseUrl,
      fetch: s.sim.fetch,
      timeouts: TIMEOUTS,
      tokens: {
        get: async () => (stale.rejected.length === 0 ? "forged.token.value" : first),
        rejected: async (t) => {
          stale.rejected.push(t);
        },
      },
    });
    const banks = await staleAdapter.institutions();
    expect(banks.length).toBeGreaterThan(0);
    expect(stale.rejected).toEqual(["forged.token.value"]);
    // Refused twice: a configuration problem, never the user's consent.
    const never = createGoCardlessAdapter({
      baseUrl: s.baseUrl,
      fetch: s.sim.fetch,
      timeouts: TIMEOUTS,
      tokens: { get: async () => "forged.token.value", rejected: async () => {} },
    });
    const err = await rejection(never.institutions());
    expect(err).toBeInstanceOf(AppTokenRefusedError);
    expect(err).not.toBeInstanceOf(ReauthRequiredError);
  });
});

describe("GoCardless: institutions and consent", () => {
  it("lists institutions with numbers from string day counts, by country", async () => {
    const s = setup();
    const all = await s.adapter.institutions();
    const sandbox = all.find((i) => i.id === "SANDBOXFINANCE_SFIN0000");
    expect(sandbox).toMatchObject({ name: "Sandbox Finance", transactionTotalDays: 90, maxAccessValidForDays: 90 });
    const gb = await s.adapter.institutions("gb");
    expect(gb.map((i) => i.id)).toEqual(["REVOLUT_REVOGB21", "LEDGERLINK_WRONGDAYS_LLWD0000"]);
    expect(gb[0]).toMatchObject({
      transactionTotalDays: 730,
      maxAccessValidForDays: 180,
      countries: ["GB", "DE", "FR", "IE", "NL"],
    });
    expect(gb[0]?.logo).toMatch(/^https:\/\//);
    const bad = await rejection(s.adapter.institutions("gbr"));
    expect(bad).toBeInstanceOf(ProviderRejectedError);
    expect((bad as ProviderRejectedError).detail).toBe("country: Invalid country choice.");
  });

  it("links end to end: agreement, requisition, the bank's page, ?ref=, completeConsent", async () => {
    const s = setup();
    const reference = "user-1-attempt-1";
    const started = await s.adapter.startConsent({
      institutionId: "SANDBOXFINANCE_SFIN0000",
      redirect: REDIRECT,
      reference,
    });
    expect(started).toMatchObject({ maxHistoricalDays: 90, accessValidForDays: 90 });
    expect(started.link).toBe(`${s.sim.base}/psd2/start/${started.requisitionId}/SANDBOXFINANCE_SFIN0000`);
    expect((await s.adapter.requisition(started.requisitionId)).status).toBe("CR");
    expect(await s.adapter.completeConsent(started.requisitionId)).toEqual({
      status: "CR",
      accountIds: [],
      consentExpiresAt: null,
    });
    expect((await s.adapter.agreement(started.agreementId)).acceptedAt).toBeNull();

    s.sim.clock.advance(30_000);
    const page = await s.sim.fetch(started.link, { redirect: "manual" });
    expect(page.status).toBe(302);
    const back = new URL(page.headers.get("Location") as string);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get("ref")).toBe(reference);
    expect(back.searchParams.has("error")).toBe(false);

    const done = await s.adapter.completeConsent(started.requisitionId);
    expect(done.status).toBe("LN");
    expect(done.accountIds).toHaveLength(2);
    expect(done.consentExpiresAt?.getTime()).toBe(T0 + 30_000 + 90 * DAY);
    const r = await s.adapter.requisition(started.requisitionId);
    expect(r).toMatchObject({ status: "LN", agreementId: started.agreementId, reference });

    // A link works once; a reference works once.
    expect((await s.sim.fetch(started.link, { redirect: "manual" })).status).toBe(400);
    const dup = await rejection(
      s.adapter.createRequisition({
        institutionId: "SANDBOXFINANCE_SFIN0000",
        agreementId: started.agreementId,
        redirect: REDIRECT,
        reference,
      }),
    );
    expect(dup).toBeInstanceOf(ProviderRejectedError);
    expect((dup as ProviderRejectedError).detail).toBe("reference: Client reference must be unique");
    await s.adapter.deleteRequisition(started.requisitionId);
  });

  it("clamps the agreement to the bank's limits, and falls back to 90/89 when the bank refuses its own", async () => {
    const s = setup();
    const revolut = await s.adapter.createAgreement({
      institutionId: "REVOLUT_REVOGB21",
      maxHistoricalDays: 9999,
      accessValidForDays: 9999,
    });
    expect(revolut).toMatchObject({ maxHistoricalDays: 730, accessValidForDays: 180 });
    const before = s.sim.calls.length;
    const wrong = await s.adapter.startConsent({
      institutionId: "LEDGERLINK_WRONGDAYS_LLWD0000",
      redirect: REDIRECT,
      reference: "wrong-days",
    });
    expect(wrong).toMatchObject({ maxHistoricalDays: 90, accessValidForDays: 89 });
    const posts = s.sim.calls.slice(before).filter((c) => c.url.pathname.endsWith("/agreements/enduser/"));
    expect(posts.map((c) => c.status)).toEqual([400, 201]);
  });

  it("consent_rejected: the bank sends the user back with error and details; the requisition is RJ", async () => {
    const s = setup();
    const l = await link(s, { scenario: "consent_rejected" });
    expect(l.back.searchParams.get("ref")).toBe(l.reference);
    expect(l.back.searchParams.get("error")).toBe("UserCancelledSessionError");
    expect(l.back.searchParams.get("details")).toBeTruthy();
    expect(await s.adapter.completeConsent(l.started.requisitionId)).toEqual({
      status: "RJ",
      accountIds: [],
      consentExpiresAt: null,
    });
    const err = await rejection(s.adapter.snapshot(l.started.requisitionId, fullWindow(s)));
    expect(err).toBeInstanceOf(ReauthRequiredError);
    expect((err as ReauthRequiredError).detail).toBe("consent_not_linked: requisition status RJ");
  });
});

describe("GoCardless: snapshots", () => {
  it("reads both accounts: kinds, masked numbers, IBAN-hash identity, balances, pending and booked rows", async () => {
    const s = await linked();
    const snap = await s.adapter.snapshot(s.requisitionId, fullWindow(s));
    expect(snap.warnings).toEqual([]);
    expect(snap.accounts).toHaveLength(2);
    const [eur, card] = snap.accounts;
    // The raw details, read directly, for the IBAN and PAN the adapter must never pass on.
    const token = await s.tokens.get();
    const raw = async (id: string) =>
      (await (
        await s.sim.fetch(`${s.baseUrl}/accounts/${id}/details/`, { headers: { Authorization: `Bearer ${token}` } })
      ).json()) as {
        account: { iban?: string; maskedPan?: string };
      };
    const eurDetails = await raw(s.done.accountIds[0] as string);
    const cardDetails = await raw(s.done.accountIds[1] as string);
    const iban = eurDetails.account.iban as string;
    expect(iban).toMatch(/^DE\d{20}$/);
    expect(eur?.account).toMatchObject({
      providerAccountId: `iban:${await sha256Hex(iban)}`,
      accountNumberMasked: `••••${iban.slice(-4)}`,
      name: "Main Account",
      type: "cacc",
      kind: "checking",
      currency: "EUR",
    });
    expect(card?.account).toMatchObject({
      // No IBAN: the bank, the masked PAN and the currency name the card (never the plain PAN).
      providerAccountId: expect.stringMatching(/^acct:[0-9a-f]{64}$/),
      accountNumberMasked: `••••${(cardDetails.account.maskedPan as string).slice(-4)}`,
      kind: "credit_card",
      type: "card",
      currency: "GBP",
    });
    expect(Number(card?.account.balances.current)).toBeLessThan(0);
    const text = JSON.stringify(snap);
    expect(text).not.toContain(iban);
    expect(text).not.toContain(iban.slice(4));
    for (const a of snap.accounts) {
      expect(a.account.balances.current).toMatch(DECIMAL);
      expect(a.account.balances.available).toMatch(DECIMAL);
      const pending = a.transactions.filter((t) => t.status === "pending");
      const posted = a.transactions.filter((t) => t.status === "posted");
      expect(pending).toHaveLength(1);
      expect(pending[0]?.providerTransactionId).toMatch(/^pending:h:[0-9a-f]{32}$/);
      expect(posted.length).toBeGreaterThan(80);
      for (const t of posted) expect(t.providerTransactionId).toMatch(/^tx:[0-9A-F]{16}$/);
      // available = booked + pending.
      expect(sum([a.account.balances.current as string, ...pending.map((t) => t.amount)])).toBe(
        sum([a.account.balances.available as string]),
      );
      for (const t of a.transactions) {
        expect(t.amount).toMatch(DECIMAL);
        expect(t.type).toBe(t.amount.startsWith("-") ? "debit" : "credit");
        expect(t.date.getUTCHours()).toBe(0);
      }
    }
    // Six data calls of the four allowed per scope and day: three left of the tightest.
    expect(snap.quota).toEqual({ remaining: 3, resetSeconds: 86_400 });
  });

  it("a second snapshot a day later: new rows, the pending row booked under a new id, balances reconcile", async () => {
    const s = await linked();
    const first = await s.adapter.snapshot(s.requisitionId, fullWindow(s));
    s.sim.clock.advance(DAY);
    const second = await s.adapter.snapshot(s.requisitionId, {
      end: new Date(s.sim.clock.ms),
      startFor: () => new Date(s.sim.clock.ms - 3 * DAY),
    });
    for (const [i, acct] of second.accounts.entries()) {
      const before = first.accounts[i];
      const oldPending = before?.transactions.find((t) => t.status === "pending");
      const ids = new Set(acct.transactions.map((t) => t.providerTransactionId));
      expect(ids.has(oldPending?.providerTransactionId as string)).toBe(false);
      const booked = acct.transactions.filter(
        (t) => t.status === "posted" && t.amount === oldPending?.amount && t.description === oldPending?.description,
      );
      expect(booked).toHaveLength(1);
      expect(booked[0]?.providerTransactionId).not.toBe(oldPending?.providerTransactionId);
      const newPending = acct.transactions.filter((t) => t.status === "pending");
      expect(newPending).toHaveLength(1);
      expect(newPending[0]?.providerTransactionId).not.toBe(oldPending?.providerTransactionId);
      // The window is respected even by the card's bank, which ignores date_from.
      for (const t of acct.transactions)
        expect(t.date.getTime()).toBeGreaterThanOrEqual(Math.floor((s.sim.clock.ms - 3 * DAY) / DAY) * DAY);
    }
    for (const r of reconcile(first, second)) {
      expect(r.added).toBe(1);
      expect(r.change).toBe(r.posted);
    }
  });

  it("the card's bank ignores the window; the adapter filters locally", async () => {
    const s = await linked();
    const start = s.sim.clock.ms - 10 * DAY;
    const snap = await s.adapter.snapshot(s.requisitionId, windowFrom(start, s.sim.clock.ms));
    const call = s.sim.calls.filter((c) => c.url.pathname.endsWith("/transactions/")).at(-1);
    const rawBooked = (JSON.parse(call?.body ?? "{}") as { transactions: { booked: unknown[] } }).transactions.booked;
    expect(rawBooked.length).toBeGreaterThan(80);
    const card = snap.accounts[1]?.transactions ?? [];
    expect(card.length).toBeLessThan(13);
    for (const t of card) expect(t.date.getTime()).toBeGreaterThanOrEqual(Math.floor(start / DAY) * DAY);
    expect(call?.url.searchParams.get("date_from")).toBe(new Date(start).toISOString().slice(0, 10));
  });

  it("the same login keeps its IBAN identity across requisitions; another login does not", async () => {
    const a = await linked({ login: "alice" });
    const b = setup();
    const l2 = await link(b, { login: "alice" });
    const l3 = await link(b, { login: "bob" });
    const [s1, s2, s3] = await Promise.all([
      a.adapter.snapshot(a.requisitionId, fullWindow(a)),
      b.adapter.snapshot(l2.started.requisitionId, fullWindow(b)),
      b.adapter.snapshot(l3.started.requisitionId, fullWindow(b)),
    ]);
    const r1 = await a.adapter.requisition(a.requisitionId);
    const r2 = await b.adapter.requisition(l2.started.requisitionId);
    expect(r2.accounts[0]).not.toBe(r1.accounts[0]);
    expect(s2.accounts[0]?.account.providerAccountId).toBe(s1.accounts[0]?.account.providerAccountId);
    expect(s2.accounts[0]?.account.providerAccountId).toMatch(/^iban:[0-9a-f]{64}$/);
    expect(s3.accounts[0]?.account.providerAccountId).not.toBe(s1.accounts[0]?.account.providerAccountId);
    // Without an IBAN the card is named by its bank, masked PAN and currency: the same card.
    expect(s2.accounts[1]?.account.providerAccountId).toBe(s1.accounts[1]?.account.providerAccountId);
    expect(s3.accounts[1]?.account.providerAccountId).not.toBe(s1.accounts[1]?.account.providerAccountId);
  });
});

describe("GoCardless: scenarios", () => {
  it("quota: the bank's limit is nearly spent; the second sync of the day gets the account-level 429", async () => {
    const s = await linked({ scenario: "quota" });
    const first = await s.adapter.snapshot(s.requisitionId, fullWindow(s));
    expect(first.quota?.remaining).toBe(0);
    s.sim.clock.advance(3_600_000);
    const err = await rejection(s.adapter.snapshot(s.requisitionId, fullWindow(s)));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).reason).toBe("daily_quota");
    expect((err as RateLimitedError).retryAfterSeconds).toBe(86_400 - 3600);
    expect((err as RateLimitedError).status).toBe(429);
    const last = s.sim.calls.at(-1);
    expect(last?.headers.get("http_x_ratelimit_account_success_remaining")).toBe("0");
    // A day later it works again.
    s.sim.clock.advance(DAY);
    expect((await s.adapter.snapshot(s.requisitionId, fullWindow(s))).accounts).toHaveLength(2);
  });

  it("short_consent: one day of access; then every form of the expiry error means consent_expired", async () => {
    const s = await linked({ scenario: "short_consent" });
    expect(s.done.consentExpiresAt?.getTime()).toBe(T0 + DAY);
    await s.adapter.snapshot(s.requisitionId, fullWindow(s));
    s.sim.clock.advance(DAY);
    expect((await s.adapter.requisition(s.requisitionId)).status).toBe("EX");
    const err = await rejection(s.adapter.snapshot(s.requisitionId, fullWindow(s)));
    expect(err).toBeInstanceOf(ReauthRequiredError);
    expect((err as ReauthRequiredError).detail).toMatch(/^consent_expired/);
    // The data calls themselves answer 400, 403 and 401 with the three texts seen in the wild.
    const token = await s.tokens.get();
    for (const [scope, status] of [
      ["transactions", 400],
      ["balances", 403],
      ["details", 401],
    ] as const) {
      const e = await rejection(
        s.gc.http.request({
          operation: `accounts.${scope}`,
          method: "GET",
          url: `${s.baseUrl}/accounts/${s.done.accountIds[0]}/${scope}/`,
          headers: { Authorization: `Bearer ${token}` },
          schema: z.unknown(),
        }),
      );
      expect(e).toBeInstanceOf(ReauthRequiredError);
      expect((e as ReauthRequiredError).status).toBe(status);
      expect((e as ReauthRequiredError).detail).toMatch(/^consent_expired: /);
    }
  });

  it("expired: data calls answer 401 AccessExpiredError; the snapshot asks for a new consent", async () => {
    const s = await linked({ scenario: "expired" });
    const err = await rejection(s.adapter.snapshot(s.requisitionId, fullWindow(s)));
    expect(err).toBeInstanceOf(ReauthRequiredError);
    expect((err as ReauthRequiredError).detail).toMatch(/^consent_expired/);
    const token = await s.tokens.get();
    const e = await rejection(
      s.gc.http.request({
        operation: "accounts.balances",
        method: "GET",
        url: `${s.baseUrl}/accounts/${s.done.accountIds[0]}/balances/`,
        headers: { Authorization: `Bearer ${token}` },
        schema: z.unknown(),
      }),
    );
    expect((e as ReauthRequiredError).status).toBe(401);
    expect((e as ReauthRequiredError).detail).toMatch(/^consent_expired: AccessExpiredError/);
  });

  it("rate_limited: the company-level 429 is a burst, with the wait from the reset header or the text", async () => {
    const s = await linked({ scenario: "rate_limited" }, { retryAfterSeconds: 7 });
    const err = await rejection(s.adapter.snapshot(s.requisitionId, fullWindow(s)));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).reason).toBe("burst");
    expect((err as RateLimitedError).retryAfterSeconds).toBe(7);
    expect((err as RateLimitedError).detail).toContain("Please try again in 7 seconds");
  });

  it("the company burst limit applies to every account call", async () => {
    const s = await linked({}, { burstLimitPerMinute: 4 });
    const err = await rejection(s.adapter.snapshot(s.requisitionId, fullWindow(s)));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).reason).toBe("burst");
    expect((err as RateLimitedError).retryAfterSeconds).toBe(60);
  });

  it("missing_ids: derived ids, identical rows told apart by occurrence, the same on every sync", async () => {
    const s = await linked({ scenario: "missing_ids" });
    const first = await s.adapter.snapshot(s.requisitionId, fullWindow(s));
    const eur = first.accounts[0]?.transactions ?? [];
    const posted = eur.filter((t) => t.status === "posted");
    for (const t of posted) expect(t.providerTransactionId).toMatch(/^h:[0-9a-f]{32}(#\d+)?$/);
    const twins = posted.filter((t) => t.providerTransactionId.endsWith("#2"));
    expect(twins.length).toBeGreaterThanOrEqual(5);
    for (const twin of twins) {
      const original = posted.find((t) => t.providerTransactionId === twin.providerTransactionId.slice(0, -2));
      expect(original).toMatchObject({ amount: twin.amount, date: twin.date, description: twin.description });
    }
    expect(new Set(eur.map((t) => t.providerTransactionId)).size).toBe(eur.length);
    for (const t of posted) expect(t.raw.idSource).toBe("derived");
    s.sim.clock.advance(3_600_000);
    const again = await s.adapter.snapshot(s.requisitionId, fullWindow(s));
    expect(again.accounts[0]?.transactions.map((t) => t.providerTransactionId)).toEqual(
      eur.map((t) => t.providerTransactionId),
    );
  });

  it("drift: from the second day the balance moves by more than the posted rows", async () => {
    const s = await linked({ scenario: "drift" });
    const first = await s.adapter.snapshot(s.requisitionId, fullWindow(s));
    s.sim.clock.advance(DAY);
    const second = await s.adapter.snapshot(s.requisitionId, fullWindow(s));
    for (const r of reconcile(first, second)) {
      expect(r.change).not.toBe(r.posted);
      expect(sum([r.change, `-${r.posted}`.replace("--", "")])).toBe("-2.5");
    }
  });
});

describe("GoCardless: error mapping", () => {
  const answering = (status: number, body: string, headers: Record<string, string> = {}) => {
    const fetch: typeof globalThis.fetch = async () => new Response(body, { status, headers });
    const tokens: AppTokenSource = { get: async () => "t", rejected: async () => {} };
    return createGoCardlessAdapter({ baseUrl: "https://gc.test/api/v2", fetch, timeouts: TIMEOUTS, tokens });
  };

  it("maps statuses and texts to kinds, never assuming JSON", async () => {
    const cases: [number, string, Record<string, string>, string, string | null][] = [
      [403, "<html><title>IP address access denied</title></html>", { "Content-Type": "text/html" }, "rejected", null],
      [404, '{"summary":"Not found.","detail":"Account ID x not found","status_code":404}', {}, "rejected", null],
      [
        409,
        '{"summary":"Account suspended","detail":"Account is suspended","status_code":409}',
        {},
        "reauth_required",
        "account_suspended",
      ],
      [402, '{"summary":"Free quota spent","detail":"Upgrade","status_code":402}', {}, "payment_required", null],
      [
        500,
        '{"summary":"Internal Server Error","detail":"x","status_code":500,"type":"UnknownRequestError"}',
        {},
        "transient",
        null,
      ],
      [503, "Service Unavailable", {}, "transient", null],
      [401, "Unauthorized", {}, "reauth_required", null],
      [
        400,
        '{"summary":"EUA 3fa85f64-5717-4562-b3fc-2c963f66afa6 has expired","detail":"x","status_code":400}',
        {},
        "reauth_required",
        "consent_expired",
      ],
      [
        403,
        '{"summary":"No valid End User Agreement","detail":"x","status_code":403}',
        {},
        "reauth_required",
        "consent_expired",
      ],
    ];
    for (const [status, body, headers, kind, detail] of cases) {
      const err = await rejection(answering(status, body, headers).institutions());
      expect(err, `${status} ${body}`).toHaveProperty("kind", kind);
      if (detail) expect((err as ReauthRequiredError).detail).toMatch(new RegExp(`^${detail}`));
    }
  });

  it("reads the wait of a 429 from Retry-After, the x-ratelimit-* headers, or the text", async () => {
    const account =
      '{"summary":"Couldn\'t update account transactions","detail":"Daily request limit set by the Institution has been exceeded.","type":"RateLimitError"}';
    const e1 = (await rejection(
      answering(429, account, { "X-RateLimit-Account-Success-Reset": "85092" }).institutions(),
    )) as RateLimitedError;
    expect([e1.reason, e1.retryAfterSeconds]).toEqual(["daily_quota", 85092]);
    const e2 = (await rejection(answering(429, account, { "Retry-After": "12" }).institutions())) as RateLimitedError;
    expect(e2.retryAfterSeconds).toBe(12);
    const text =
      '{"summary":"Rate limit exceeded","detail":"The rate limit for this resource is 4/day. Please try again in 85092 seconds","status_code":429}';
    const e3 = (await rejection(answering(429, text).institutions())) as RateLimitedError;
    expect([e3.reason, e3.retryAfterSeconds]).toEqual(["burst", 85092]);
    const e4 = (await rejection(answering(429, "<html>Too Many Requests</html>").institutions())) as RateLimitedError;
    expect([e4.reason, e4.retryAfterSeconds]).toEqual(["burst", null]);
  });

  it("a 200 that is not the expected shape is malformed; unknown routes answer 404 in GoCardless's shape", async () => {
    const err = await rejection(
      answering(200, '{"not":"a list"}', { "Content-Type": "application/json" }).institutions(),
    );
    expect(err).toBeInstanceOf(MalformedResponseError);
    const s = setup();
    const res = await s.sim.fetch(`${s.sim.base}/nowhere`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ summary: "Not found.", detail: "Not found.", status_code: 404 });
  });

  it("honours timeouts: a simulated slow bank is a transient error and the simulator stops waiting", async () => {
    const s = setup({ latencyMs: 5_000 });
    const slow = createGoCardlessAdapter({
      baseUrl: s.baseUrl,
      fetch: s.sim.fetch,
      timeouts: { connectMs: 50, totalMs: 100 },
      tokens: { get: async () => "t", rejected: async () => {} },
    });
    const started = Date.now();
    const err = await rejection(slow.institutions());
    expect(err).toBeInstanceOf(TransientProviderError);
    expect((err as TransientProviderError).timeout).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe("GoCardless: transaction ids", () => {
  const row = (over: Record<string, unknown>) =>
    ({ transactionAmount: { amount: "-1.5", currency: "EUR" }, bookingDate: "2026-10-01", ...over }) as never;
  const keyed = (r: unknown, pending = false) => ({ row: r as never, date: "2026-10-01", currency: "EUR", pending });

  it("keys on transactionId unless blank, a placeholder or repeated; then internalTransactionId; else a hash", async () => {
    const { transactionIds } = await import("../../../src/providers/gocardless/ids");
    const ids = await transactionIds([
      keyed(row({ transactionId: "A1", internalTransactionId: "i1" })),
      keyed(row({ transactionId: " ", internalTransactionId: "i2" })),
      keyed(row({ transactionId: "NOTPROVIDED", internalTransactionId: "i3" })),
      keyed(row({ transactionId: "9998", internalTransactionId: "i4" })),
      keyed(row({ transactionId: "9998", internalTransactionId: "i5" })),
      keyed(row({ remittanceInformationUnstructured: "Coffee" })),
      keyed(row({ remittanceInformationUnstructured: "Coffee" })),
      keyed(row({ remittanceInformationUnstructured: "Coffee", transactionId: "B2" }), true),
    ]);
    expect(ids.slice(0, 5)).toEqual(["tx:A1", "int:i2", "int:i3", "int:i4", "int:i5"]);
    expect(ids[5]).toMatch(/^h:[0-9a-f]{32}$/);
    expect(ids[6]).toBe(`${ids[5]}#2`);
    // Pending rows never key on their bank id.
    expect(ids[7]).toBe(`pending:${ids[5]}`);
  });

  it("internal errors answer 500 in GoCardless's shape", async () => {
    const { createSimSigner } = await import("../../../src/providers/simulators/shared/signer");
    const s = setup();
    const token = await s.tokens.get();
    // A genuine but broken account id (no scope list) makes the simulator throw.
    const id = await createSimSigner("gocardless|test-secret").id("gc-account", {
      l: "x",
      k: 0,
      x: "default",
      c: T0,
      e: T0 + DAY,
    });
    const res = await s.sim.fetch(`${s.baseUrl}/accounts/${id}/balances/`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ status_code: 500, type: "UnknownRequestError" });
  });
});
