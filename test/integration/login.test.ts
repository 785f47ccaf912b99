import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { scryptHasher } from "../../src/crypto/password";
import { emailSubject } from "../../src/limiter/client";
import { login as loginService } from "../../src/services/identity/login";
import { AUDIT_LOG } from "../support/audit";
import { testDeps } from "../support/deps";
import { limiterOf } from "../support/home";
import { call, patientEnv, problem } from "../support/http";
import { authed, emailTo, login, outbox, PASSWORD, uniqueEmail, verifiedUser } from "../support/identity";

const meta = {
  requestId: "t",
  traceId: "0af7651916cd43dd8448eb211c80319c",
  method: "POST",
  path: "/api/v1/auth/login",
  ip: "203.0.113.9",
  clientKey: "203.0.113.9",
  userAgent: null,
  location: null,
};

describe("login", () => {
  it("returns a TokenResponse and creates a session with device, IP and geo", async () => {
    const email = await verifiedUser();
    const ua =
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";
    const res = await login(email, PASSWORD, { "User-Agent": ua, "CF-Connecting-IP": "198.51.100.7" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 900, user: { email, email_verified: true } });
    expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const session = await env.DB.prepare("SELECT * FROM sessions WHERE id = ?")
      .bind(body.session_id)
      .first<Record<string, unknown>>();
    expect(session).toMatchObject({ ip_address: "198.51.100.7", user_agent: ua, revoked_at: null });
    expect((session?.expires_at as number) - (session?.created_at as number)).toBe(30 * 86_400_000);
  });

  it("normalises the email on login", async () => {
    const email = await verifiedUser();
    expect((await login(`  ${email.toUpperCase()} `)).status).toBe(200);
  });

  it("answers unknown email and wrong password alike", async () => {
    const email = await verifiedUser();
    const unknown = await login(uniqueEmail("ghost"));
    const wrong = await login(email, "Wrong-Password-1!");
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const [a, b] = [await problem(unknown), await problem(wrong)];
    expect(a.code).toBe("invalid_credentials");
    expect({ ...a, request_id: "" }).toEqual({ ...b, request_id: "" });
    expect(unknown.headers.get("WWW-Authenticate")).toContain("Bearer");
  });

  it("spends the same hashing work on an unknown email (verifies against a dummy hash)", async () => {
    const real = (await testDeps()).passwords;
    const verified: string[] = [];
    const deps = await testDeps({
      passwords: {
        ...real,
        verifyPassword: (p: string, stored: string) => {
          verified.push(stored);
          return real.verifyPassword(p, stored);
        },
      },
    });
    await expect(loginService(deps, meta, { email: uniqueEmail("ghost"), password: PASSWORD })).rejects.toMatchObject({
      code: "invalid_credentials",
    });
    expect(verified).toEqual([await real.dummyHash()]);
    expect(verified[0]).toMatch(/^\$scrypt\$ln=14,r=8,p=5\$/);
  });

  it("upgrades a hash made with older parameters on the next successful login", async () => {
    const email = await verifiedUser();
    const old = await scryptHasher({ ln: 12, r: 8, p: 1 }).hashPassword(PASSWORD);
    await env.DB.prepare("UPDATE users SET password_hash = ? WHERE email = ?").bind(old, email).run();
    expect((await login(email)).status).toBe(200);
    const stored = await env.DB.prepare("SELECT password_hash FROM users WHERE email = ?")
      .bind(email)
      .first("password_hash");
    expect(stored).toMatch(/^\$scrypt\$ln=14,r=8,p=5\$/);
    expect((await login(email)).status).toBe(200);
  });

  it("audits success and failure with request context, never the raw email of an unknown account", async () => {
    const email = await verifiedUser();
    await login(email, "Wrong-Password-1!", { "CF-Connecting-IP": "192.0.2.55", "X-Request-Id": "audit-req-1" });
    const ghost = uniqueEmail("ghost");
    await login(ghost);
    const rows = await env.DB.prepare(
      `SELECT * FROM ${AUDIT_LOG} WHERE action = 'auth.login' AND outcome = 'failure'`,
    ).all<Record<string, unknown>>();
    const mine = rows.results.find((r) => r.request_id === "audit-req-1");
    expect(mine).toMatchObject({ ip_address: "192.0.2.55", method: "POST", path: "/api/v1/auth/login" });
    expect(JSON.stringify(rows.results)).not.toContain(ghost);
  });
});

/** Logins from one client (fixed IP), with the per-IP rate limit raised so the lockout is reached. */
const from =
  (ip: string) =>
  (email: string, password = PASSWORD) =>
    call("/api/v1/auth/login", {
      method: "POST",
      json: { email, password },
      headers: { "CF-Connecting-IP": ip },
      env: patientEnv,
    });
const WRONG = "Wrong-Password-1!";

describe("lockout (per account and client)", () => {
  it("locks a client after 10 consecutive failures for an hour, tells the owner, and refuses even the right password", async () => {
    const email = await verifiedUser("lock");
    const attacker = from("203.0.113.61");
    for (let i = 0; i < 9; i++) expect((await attacker(email, WRONG)).status).toBe(401);
    const tenth = await attacker(email, WRONG);
    expect(tenth.status).toBe(423);
    expect((await problem(tenth)).code).toBe("account_locked");
    expect(Number(tenth.headers.get("Retry-After"))).toBe(3600);
    const right = await attacker(email);
    expect(right.status).toBe(423);
    expect(Number(right.headers.get("Retry-After"))).toBeGreaterThan(3590);
    expect((await emailTo(email, /failed logins/)).text).toContain("other devices are not affected");
  });

  it("a success resets the client's count", async () => {
    const email = await verifiedUser("reset");
    const client = from("203.0.113.62");
    for (let i = 0; i < 9; i++) await client(email, WRONG);
    expect((await client(email)).status).toBe(200);
    for (let i = 0; i < 9; i++) expect((await client(email, WRONG)).status).toBe(401);
    expect((await client(email)).status).toBe(200);
  });

  it("unlocks when the hour has passed", async () => {
    const email = await verifiedUser("unlock");
    const client = from("203.0.113.63");
    for (let i = 0; i < 10; i++) await client(email, WRONG);
    expect((await client(email)).status).toBe(423);
    const gate = limiterOf(await emailSubject(email));
    await runInDurableObject(gate, (_, state) => {
      state.storage.sql.exec("UPDATE lockouts SET locked_until = ?", Date.now() - 1);
    });
    expect((await client(email)).status).toBe(200);
  });

  it("parallel failures lock exactly once", async () => {
    const email = await verifiedUser("race");
    const client = from("203.0.113.64");
    const answers = await Promise.all(Array.from({ length: 12 }, () => client(email, WRONG)));
    expect(answers.filter((r) => r.status === 423).length).toBeGreaterThanOrEqual(1);
    const locks = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_events WHERE action = 'auth.lockout' AND user_id = (SELECT id FROM users WHERE email = ?)",
    )
      .bind(email)
      .first("n");
    expect(locks).toBe(1);
    await emailTo(email, /failed logins/);
    expect((await outbox(email)).filter((m) => /failed logins/.test(m.subject))).toHaveLength(1);
  });
});

describe("authenticated requests", () => {
  it("refuse missing, malformed, forged and alg:none tokens with 401 unauthenticated", async () => {
    const noAuth = await authed("", "/api/v1/auth/me");
    expect(noAuth.status).toBe(401);
    const none = `${btoa(JSON.stringify({ alg: "none", typ: "at+jwt" }))}.${btoa(JSON.stringify({ sub: "usr_x", sid: "ses_x", ver: 0 }))}.`;
    for (const token of ["garbage", none.replace(/=/g, ""), "a.b.c"]) {
      const res = await authed(token, "/api/v1/auth/me");
      expect(res.status).toBe(401);
      expect((await problem(res)).code).toBe("unauthenticated");
      expect(res.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
    }
  });
});
