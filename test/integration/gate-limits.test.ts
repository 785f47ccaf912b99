import { createExecutionContext, evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src";
import type { LimiterResults } from "../../src/limiter/limiter";
import { limiterOf } from "../support/home";
import { call, problem } from "../support/http";
import { authed, PASSWORD, uniqueEmail } from "../support/identity";
import { seededSession } from "../support/seed";

const from = (ip: string) => ({ "CF-Connecting-IP": ip });
const loginFrom = (ip: string, email: string, password = "Wrong-Password-1!") =>
  call("/api/v1/auth/login", { method: "POST", json: { email, password }, headers: from(ip) });
const count = (rs: Response[], status: number) => rs.filter((r) => r.status === status).length;

describe("rate limits are exact (a burst of N+1 lets exactly N through)", () => {
  it("login: 5 per IP, with Retry-After and RateLimit fields", async () => {
    const rs = await Promise.all(Array.from({ length: 6 }, () => loginFrom("203.0.113.10", uniqueEmail("ghost"))));
    expect(count(rs, 429)).toBe(1);
    expect(count(rs, 401)).toBe(5);
    const limited = rs.find((r) => r.status === 429) as Response;
    expect((await problem(limited)).code).toBe("rate_limited");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get("RateLimit-Policy")).toContain('"login_ip";q=5;w=60');
    const passed = rs.find((r) => r.status === 401) as Response;
    expect(passed.headers.get("RateLimit")).toMatch(/"login_ip";r=\d;t=\d+/);
  });

  it("distinct client IPs are limited separately", async () => {
    // One client exhausts its bucket; another is still served in full.
    const a = await Promise.all(Array.from({ length: 6 }, () => loginFrom("203.0.113.20", uniqueEmail("ghost"))));
    expect(count(a, 429)).toBe(1);
    const b = await Promise.all(Array.from({ length: 5 }, () => loginFrom("203.0.113.21", uniqueEmail("ghost"))));
    expect(count(b, 429)).toBe(0);
    expect((await loginFrom("203.0.113.20", uniqueEmail("ghost"))).status).toBe(429);
  });

  it("login: 20 failures per email per 15 minutes across IPs, audited without the raw email", async () => {
    const email = uniqueEmail("target");
    // Only failures spend the address's budget (docs/security.md, second pass item 4).
    for (let i = 0; i < 20; i++) expect((await loginFrom(`198.51.100.${i + 1}`, email)).status).toBe(401);
    const limited = await loginFrom("198.51.100.21", email);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("RateLimit-Policy")).toContain('"login_email";q=20;w=900');
    await new Promise((r) => setTimeout(r, 50));
    const rows = await env.DB.prepare("SELECT details FROM audit_events WHERE action = 'rate_limit.exceeded'").all<{
      details: string;
    }>();
    const details = rows.results.map((r) => JSON.parse(r.details));
    expect(details).toContainEqual({ rule: "login_email", key_kind: "email", route: "/api/v1/auth/login" });
    expect(JSON.stringify(rows.results)).not.toContain(email);
  });

  it("register: 3 per IP per minute", async () => {
    const rs = await Promise.all(
      Array.from({ length: 4 }, () =>
        call("/api/v1/auth/register", {
          method: "POST",
          json: { email: uniqueEmail(), password: PASSWORD, name: "Burst" },
          headers: from("203.0.113.30"),
        }),
      ),
    );
    expect(count(rs, 202)).toBe(3);
    expect(count(rs, 429)).toBe(1);
  });

  it("password reset requests and resends share 3 per IP, then 1 per minute", async () => {
    const rs = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        call(i % 2 ? "/api/v1/auth/resend-verification" : "/api/v1/auth/request-password-reset", {
          method: "POST",
          json: { email: uniqueEmail() },
          headers: from("203.0.113.40"),
        }),
      ),
    );
    expect(count(rs, 202)).toBe(3);
    expect(count(rs, 429)).toBe(1);
  });

  it("verify-email and reset-password: 10 per IP per minute", async () => {
    const rs = await Promise.all(
      Array.from({ length: 11 }, () =>
        call("/api/v1/auth/verify-email", {
          method: "POST",
          json: { token: "x".repeat(43) },
          headers: from("203.0.113.50"),
        }),
      ),
    );
    expect(count(rs, 400)).toBe(10);
    expect(count(rs, 429)).toBe(1);
  });

  it("authenticated reads: 100 per user per minute", async () => {
    const { tokens } = await seededSession("reader");
    const rs = await Promise.all(Array.from({ length: 101 }, () => authed(tokens.access_token, "/api/v1/auth/me")));
    expect(count(rs, 200)).toBe(100);
    expect(count(rs, 429)).toBe(1);
    expect(rs[0]?.headers.get("RateLimit-Policy")).toBe('"user_read";q=100;w=60');
  });

  it("authenticated writes: 50 per user per minute, counted apart from reads", async () => {
    const { tokens } = await seededSession("writer");
    const rs = await Promise.all(
      Array.from({ length: 51 }, () =>
        authed(tokens.access_token, "/api/v1/auth/me", { method: "PATCH", json: { name: "Writer" } }),
      ),
    );
    expect(count(rs, 200)).toBe(50);
    expect(count(rs, 429)).toBe(1);
    expect((await authed(tokens.access_token, "/api/v1/auth/me")).status).toBe(200);
  });

  it("refresh: 10 per session per minute", async () => {
    const { tokens } = await seededSession("refresher");
    // Concurrent refreshes of one token all get the same successor, so each counts once.
    const rs = await Promise.all(
      Array.from({ length: 11 }, () =>
        call("/api/v1/auth/refresh", { method: "POST", json: { refresh_token: tokens.refresh_token } }),
      ),
    );
    expect(count(rs, 200)).toBe(10);
    expect(count(rs, 429)).toBe(1);
  });
});

describe("buckets across an eviction", () => {
  // 10 an hour: nothing refills within the test.
  const rule = { burst: 10, refill: 10, perSeconds: 3600 };
  const take = (stub: DurableObjectStub<import("../../src/limiter/limiter").Limiter>) =>
    stub.command({ type: "take", limit: { name: "probe", rule } }) as Promise<LimiterResults["take"]>;

  it("a bucket below half full is exact; above half, an eviction gives back less than half a burst", async () => {
    const stub = limiterOf(`probe:${crypto.randomUUID()}`);
    for (let i = 0; i < 3; i++) await take(stub);
    await evictDurableObject(stub);
    // Above half (7 left) nothing was written: the bucket may come back fuller, never by 5 or more.
    const back = (await take(stub)).remaining;
    expect(back).toBeGreaterThanOrEqual(6);
    expect(back).toBeLessThan(6 + rule.burst / 2);
    // Under pressure every take is written: what an eviction restores is exact.
    let left = back;
    while (left > 2) left = (await take(stub)).remaining;
    await evictDurableObject(stub);
    expect((await take(stub)).remaining).toBe(left - 1);
    while ((await take(stub)).allowed) {}
    await evictDurableObject(stub);
    expect((await take(stub)).allowed).toBe(false);
  });
});

describe("when the objects are unreachable", () => {
  const unreachable = {
    idFromName: () => ({}),
    get: () =>
      new Proxy(
        {},
        { get: () => () => Promise.reject(new Error("Durable Object reset because its code was updated")) },
      ),
  };
  const broken = { ...env, HOME: unreachable, LIMITER: unreachable } as unknown as Env;
  const send = (path: string, init: RequestInit) =>
    worker.fetch(new Request(`https://x.test${path}`, init), broken, createExecutionContext());

  it("rate limits fail open on anonymous routes, but not where credentials are checked", async () => {
    const res = await send("/api/v1/auth/register", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: uniqueEmail("ghost"), password: PASSWORD, name: "Ghost" }),
    });
    expect(res.status).toBe(202);
    const login = await send("/api/v1/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: uniqueEmail("ghost"), password: PASSWORD }),
    });
    expect(login.status).toBe(503);
    expect((await problem(login)).code).toBe("gate_unavailable");
  });

  it("reads fall back to the session check in D1; writes fail closed with 503", async () => {
    const { tokens } = await seededSession("outage");
    const auth = { Authorization: `Bearer ${tokens.access_token}` };
    expect((await send("/api/v1/auth/me", { headers: auth })).status).toBe(200);
    // The ledger lives in the user's home and nowhere else: its reads wait for it.
    const ledger = await send("/api/v1/accounts", { headers: auth });
    expect(ledger.status).toBe(503);
    expect((await problem(ledger)).code).toBe("unavailable");
    const write = await send("/api/v1/auth/me", {
      method: "PATCH",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "x" }),
    });
    expect(write.status).toBe(503);
    expect((await problem(write)).code).toBe("unavailable");
    // Logging out cannot be confirmed without the Gate, so nothing changes.
    expect((await send("/api/v1/auth/logout", { method: "POST", headers: auth })).status).toBe(503);
  });

  it("the read fallback still refuses a revoked session", async () => {
    const { tokens } = await seededSession("outage2");
    await authed(tokens.access_token, "/api/v1/auth/logout", { method: "POST" });
    const res = await send("/api/v1/auth/me", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect((await problem(res)).code).toBe("session_revoked");
  });
});

describe("connecting a provider", () => {
  it("is limited to 5 per user per minute", async () => {
    const { tokens } = await seededSession("connector");
    const rs = await Promise.all(
      Array.from({ length: 6 }, () =>
        authed(tokens.access_token, "/api/v1/connections", { method: "POST", json: { provider: "sandbox" } }),
      ),
    );
    expect(count(rs, 201)).toBe(5);
    expect(count(rs, 429)).toBe(1);
    expect(rs.find((r) => r.status === 429)?.headers.get("RateLimit-Policy")).toBe('"connect_provider";q=5;w=60');
  });
});
