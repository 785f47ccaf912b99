// The outside security review (issue 9), item by item: each test is the attacker's HTTP sequence
// (or, where the attack is a race, the same sequence with the race forced), written to fail on
// the code before the fix. docs/security.md maps each item to its fix.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../src";
import { parseConfig } from "../../src/config";
import { sha256Hex } from "../../src/crypto/random";
import { base32Decode, totpAt, totpStep } from "../../src/crypto/totp";
import { revokeSessions } from "../../src/services/sessions";
// Vite's `?raw`: the committed wrangler.toml as text, exactly what a plain `wrangler deploy` ships.
import committedWrangler from "../../wrangler.toml?raw";
import { loggedInAdmin } from "../support/admin";
import { authorize, started } from "../support/connections";
import { testDeps } from "../support/deps";
import { homeOf, limiterOf } from "../support/home";
import { call, envWith, patientEnv, problem } from "../support/http";
import {
  authed,
  emailTo,
  loggedIn,
  login,
  NEW_PASSWORD,
  outbox,
  outboxAtLeast,
  PASSWORD,
  register,
  type Tokens,
  tokenFromEmail,
  uniqueEmail,
  verifiedUser,
} from "../support/identity";
import { productionEnv } from "../support/production";

const WRONG = "Wrong-Password-1!";
const codeOf = async (r: Response) => (r.status < 300 ? "ok" : (await problem(r)).code);
const me = (t: Tokens) => authed(t.access_token, "/api/v1/auth/me");
const post = (path: string, json: unknown, init: Parameters<typeof call>[1] = {}) =>
  call(path, { ...init, method: "POST", json });

describe("1 (high): the OAuth callback cannot be completed by the wrong person", () => {
  it("a victim who consents on the attacker's link connects nothing to the attacker's account", async () => {
    const mallory = await loggedIn("mallory");
    const alice = await loggedIn("alice");
    // Mallory starts a connection under his own account and sends the link to Alice.
    const start = await started(mallory.tokens.access_token, { alias: "Alice, your bank needs you" });
    // Alice consents at the provider; her browser lands on our callback.
    const location = await authorize(start.authorization_url);
    const page = await call(location.pathname + location.search, { headers: { Accept: "text/html" } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toContain("Alice, your bank");
    // Nothing was completed or stored: the connection is still pending, without credentials.
    const row = await env.DB.prepare("SELECT status, access_token_enc FROM connections WHERE id = ?")
      .bind(start.connection.id)
      .first<{ status: string; access_token_enc: string | null }>();
    expect(row).toEqual({ status: "pending", access_token_enc: null });
    // Alice's own app, holding her token, cannot complete Mallory's flow, and does not spend it.
    const code = location.searchParams.get("code");
    const stolen = await authed(alice.tokens.access_token, "/api/v1/connections/callback", {
      method: "POST",
      json: { state: start.state, code },
    });
    expect(stolen.status).toBe(404);
    const state = await env.DB.prepare("SELECT used_at FROM oauth_states WHERE connection_id = ?")
      .bind(start.connection.id)
      .first<{ used_at: number | null }>();
    expect(state?.used_at).toBeNull();
  });

  it("hands the answer only to an allow-listed return_to", async () => {
    const { tokens } = await loggedIn("returner");
    const evil = await authed(tokens.access_token, "/api/v1/connections", {
      method: "POST",
      json: { provider: "sandbox", return_to: "https://evil.example/steal" },
    });
    expect(evil.status).toBe(422);
    const start = await started(tokens.access_token, { return_to: "http://localhost:5173/connected?tab=2" });
    const location = await authorize(start.authorization_url);
    const back = await call(location.pathname + location.search, { redirect: "manual" });
    expect(back.status).toBe(302);
    const to = new URL(back.headers.get("Location") as string);
    expect(to.origin + to.pathname).toBe("http://localhost:5173/connected");
    expect(Object.fromEntries(to.searchParams)).toEqual({
      tab: "2",
      state: start.state,
      code: location.searchParams.get("code"),
    });
  });

  it("posts to the opener only at the web app's own origin, with a nonce-only script", async () => {
    const { tokens } = await loggedIn("popup");
    const res = await authed(tokens.access_token, "/api/v1/connections", {
      method: "POST",
      json: { provider: "sandbox" },
      headers: { Origin: "http://localhost:3000" },
    });
    const start = (await res.json()) as { authorization_url: string };
    const location = await authorize(start.authorization_url);
    const page = await call(location.pathname + location.search, { headers: { Accept: "text/html" } });
    const csp = page.headers.get("Content-Security-Policy") ?? "";
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).not.toContain("unsafe-inline");
    // It carries the code exchange's outcome: nothing may store it.
    expect(page.headers.get("Cache-Control")).toBe("no-store");
    const html = await page.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain('data-origin="http://localhost:3000"');
  });
});

describe("2: a password reset does not lift an administrator's lock", () => {
  it("the locked user resets their password and is still refused with 403 account_disabled", async () => {
    const admin = await loggedInAdmin("lock-admin");
    const user = await loggedIn("locked-out");
    const patch = await authed(admin.tokens.access_token, `/api/v1/admin/users/${user.tokens.user.id}`, {
      method: "PATCH",
      json: { locked: true },
    });
    expect(patch.status).toBe(200);
    await post("/api/v1/auth/request-password-reset", { email: user.email });
    const token = await tokenFromEmail(user.email, /reset your password/i);
    expect((await post("/api/v1/auth/reset-password", { token, new_password: NEW_PASSWORD })).status).toBe(200);
    const res = await login(user.email, NEW_PASSWORD);
    expect(res.status).toBe(403);
    expect((await problem(res)).code).toBe("account_disabled");
  });

  it("refresh refuses a disabled user even if a session survived", async () => {
    const user = await loggedIn("disabled-refresh");
    await env.DB.prepare("UPDATE users SET disabled_at = ? WHERE id = ?").bind(Date.now(), user.tokens.user.id).run();
    const res = await post("/api/v1/auth/refresh", { refresh_token: user.tokens.refresh_token });
    expect(res.status).toBe(403);
    expect((await problem(res)).code).toBe("account_disabled");
  });
});

describe("3: nobody can lock anybody else out", () => {
  const from = (ip: string) => (email: string, password: string) =>
    post("/api/v1/auth/login", { email, password }, { headers: { "CF-Connecting-IP": ip }, env: patientEnv });

  it("ten failures from the attacker lock the attacker's client only", async () => {
    const email = await verifiedUser("victim");
    const attacker = from("203.0.113.80");
    for (let i = 0; i < 10; i++) await attacker(email, WRONG);
    expect((await attacker(email, PASSWORD)).status).toBe(423);
    expect((await from("198.51.100.80")(email, PASSWORD)).status).toBe(200);
  });

  it("an unknown address answers exactly like a known one, lockout included", async () => {
    const known = await verifiedUser("known");
    const ghost = uniqueEmail("ghost");
    const answers = async (email: string, ip: string) => {
      const client = from(ip);
      const out: string[] = [];
      for (let i = 0; i < 11; i++) {
        const r = await client(email, WRONG);
        out.push(`${r.status} ${(await problem(r)).code} ${r.headers.get("Retry-After") ?? ""}`);
      }
      return out;
    };
    const [a, b] = await Promise.all([answers(known, "203.0.113.81"), answers(ghost, "203.0.113.82")]);
    // Retry-After counts down in whole seconds; both start the same hour.
    const norm = (xs: string[]) => xs.map((x) => x.replace(/ 35\d\d$| 3600$/, " ~3600"));
    expect(norm(b)).toEqual(norm(a));
    expect(a.at(-1)).toMatch(/^423 account_locked/);
  });

  it("an IPv6 client is its /64: rotating addresses inside it does not escape the lockout", async () => {
    const email = await verifiedUser("v6");
    for (let i = 1; i <= 10; i++) await from(`2001:db8:77:1::${i.toString(16)}`)(email, WRONG);
    expect((await from("2001:db8:77:1:ffff::9")(email, PASSWORD)).status).toBe(423);
    expect((await from("2001:db8:77:2::1")(email, PASSWORD)).status).toBe(200);
  });
});

describe("4: every credential change expires every outstanding emailed link", () => {
  it("a pending email change dies with a password reset", async () => {
    const { email, tokens } = await loggedIn("pending-change");
    const target = uniqueEmail("attacker-inbox");
    await authed(tokens.access_token, "/api/v1/auth/change-email", {
      method: "POST",
      json: { new_email: target, current_password: PASSWORD },
    });
    const change = await tokenFromEmail(target, /confirm your new email/i);
    await post("/api/v1/auth/request-password-reset", { email });
    const reset = await tokenFromEmail(email, /reset your password/i);
    expect((await post("/api/v1/auth/reset-password", { token: reset, new_password: NEW_PASSWORD })).status).toBe(200);
    const late = await post("/api/v1/auth/verify-email", { token: change });
    expect(late.status).toBe(400);
    expect((await problem(late)).code).toBe("invalid_token");
  });

  it("a completed email change kills reset links sent to the old address", async () => {
    const { email, tokens } = await loggedIn("moved");
    await post("/api/v1/auth/request-password-reset", { email });
    const reset = await tokenFromEmail(email, /reset your password/i);
    const moved = uniqueEmail("moved-to");
    await authed(tokens.access_token, "/api/v1/auth/change-email", {
      method: "POST",
      json: { new_email: moved, current_password: PASSWORD },
    });
    expect((await post("/api/v1/auth/verify-email", { token: await tokenFromEmail(moved, /new email/i) })).status).toBe(
      200,
    );
    const old = await post("/api/v1/auth/reset-password", { token: reset, new_password: NEW_PASSWORD });
    expect((await problem(old)).code).toBe("invalid_token");
  });
});

describe("5: re-authentication cannot be brute-forced from a stolen session", () => {
  it("ten wrong current passwords in a row end the session", async () => {
    const { tokens } = await loggedIn("stolen");
    const change = () =>
      authed(tokens.access_token, "/api/v1/auth/change-password", {
        method: "POST",
        json: { current_password: WRONG, new_password: NEW_PASSWORD },
        headers: { "CF-Connecting-IP": "203.0.113.90" },
      });
    for (let i = 1; i < 10; i++) expect(await codeOf(await change())).toBe("invalid_credentials");
    expect(await codeOf(await change())).toBe("session_revoked");
    expect(await codeOf(await me(tokens))).toBe("session_revoked");
  });

  it("TOTP setup needs the password", async () => {
    const { tokens } = await loggedIn("mfa-thief");
    const bare = await authed(tokens.access_token, "/api/v1/auth/mfa/totp/setup", { method: "POST" });
    expect(bare.status).toBe(422);
    const wrong = await authed(tokens.access_token, "/api/v1/auth/mfa/totp/setup", {
      method: "POST",
      json: { password: WRONG },
    });
    expect((await problem(wrong)).code).toBe("invalid_credentials");
  });
});

/** Counts D1 round trips (statements run, batches) made through a binding. */
function countingD1(d1: D1Database) {
  let trips = 0;
  const wrapStatement = (s: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(s, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== "function") return v;
        if (prop === "bind") return (...args: unknown[]) => wrapStatement(v.apply(target, args));
        if (["all", "run", "first", "raw"].includes(String(prop)))
          return (...args: unknown[]) => {
            trips++;
            return v.apply(target, args);
          };
        return v.bind(target);
      },
    });
  const db = new Proxy(d1, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop === "prepare") return (sql: string) => wrapStatement(target.prepare(sql));
      if (prop === "batch")
        return (statements: D1PreparedStatement[]) => {
          trips++;
          return target.batch(statements);
        };
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { db, trips: () => trips };
}

describe("6: timing and errors do not reveal which accounts exist", () => {
  const failingEmail = envWith({ EMAIL_TRANSPORT: "resend", RESEND_API_KEY: "re_unreachable_key" });
  // The email provider is down: every call to it fails at once.
  // Work the Worker defers past its response (the email); awaited before each test ends.
  const background: Promise<unknown>[] = [];
  beforeEach(() => {
    const real = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation((input, init) =>
      String(input instanceof Request ? input.url : input).startsWith("https://api.resend.com/")
        ? Promise.reject(new TypeError("connection refused"))
        : real(input, init),
    );
  });
  afterEach(async () => {
    await Promise.allSettled(background.splice(0));
    vi.restoreAllMocks();
  });
  const send = (envOf: Env, path: string, json: unknown) =>
    worker.fetch(
      new Request(`https://x.test${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "CF-Connecting-IP": `10.66.${(Math.random() * 250) | 0}.1` },
        body: JSON.stringify(json),
      }),
      envOf,
      {
        waitUntil: (p: Promise<unknown>) => background.push(p),
        passThroughOnException() {},
        props: {},
      } as unknown as ExecutionContext,
    );

  it("answers known and unknown addresses identically when the email transport fails", async () => {
    const known = await verifiedUser("known-fail");
    for (const path of ["/api/v1/auth/request-password-reset", "/api/v1/auth/resend-verification"]) {
      const [a, b] = await Promise.all([
        send(failingEmail, path, { email: known }),
        send(failingEmail, path, { email: uniqueEmail("nobody") }),
      ]);
      expect([a.status, b.status], path).toEqual([202, 202]);
      expect(await a.json()).toEqual(await b.json());
    }
    const [x, y] = await Promise.all([
      send(failingEmail, "/api/v1/auth/register", { email: known, password: PASSWORD, name: "X" }),
      send(failingEmail, "/api/v1/auth/register", { email: uniqueEmail("new"), password: PASSWORD, name: "X" }),
    ]);
    expect([x.status, y.status]).toEqual([202, 202]);
  });

  it("makes the same number of D1 round trips for a known and an unknown address", async () => {
    const known = await verifiedUser("known-trips");
    const trips = async (path: string, json: Record<string, unknown>) => {
      const counted = countingD1(env.DB);
      const res = await send({ ...env, DB: counted.db } as Env, path, json);
      expect(res.status, path).toBeLessThan(500);
      return counted.trips();
    };
    const cases: [string, (email: string) => Record<string, unknown>][] = [
      ["/api/v1/auth/request-password-reset", (email) => ({ email })],
      ["/api/v1/auth/resend-verification", (email) => ({ email })],
      ["/api/v1/auth/login", (email) => ({ email, password: WRONG })],
      ["/api/v1/auth/register", (email) => ({ email, password: PASSWORD, name: "Equal" })],
    ];
    for (const [path, body] of cases) {
      const unknown = path.endsWith("register") ? uniqueEmail("fresh") : uniqueEmail("nobody");
      expect(await trips(path, body(known)), path).toBe(await trips(path, body(unknown)));
    }
  });
});

describe("7: IPv6 and email flooding", () => {
  it("at most 5 emails of one kind go to one address per hour; the answer stays 202", async () => {
    const email = await verifiedUser("flooded");
    for (let i = 0; i < 7; i++) {
      expect((await post("/api/v1/auth/request-password-reset", { email })).status).toBe(202);
    }
    await outboxAtLeast(email, 5);
    // The sixth and seventh were not sent (give them time to arrive if they were).
    await new Promise((r) => setTimeout(r, 300));
    expect((await outbox(email)).filter((m) => /reset your password/i.test(m.subject))).toHaveLength(5);
  });

  it("per-IP limits count an IPv6 client by its /64", async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 4; i++) {
      const r = await post(
        "/api/v1/auth/register",
        { email: uniqueEmail("v6"), password: PASSWORD, name: "Six" },
        { headers: { "CF-Connecting-IP": `2001:db8:99:5::${i}` } },
      );
      statuses.push(r.status);
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
  });
});

describe("8: the committed configuration is production's and fails closed", () => {
  const committedVars = () => {
    const vars: Record<string, string> = {};
    const section = /\[vars\]([\s\S]*?)(\n\[|$)/.exec(committedWrangler)?.[1] ?? "";
    for (const m of section.matchAll(/^([A-Z0-9_]+)\s*=\s*"([^"]*)"/gm)) vars[m[1] as string] = m[2] as string;
    return vars;
  };
  const deployed = (): Record<string, unknown> => {
    const { JWT_SIGNING_KEYS, REFRESH_TOKEN_SECRET, ENCRYPTION_KEYS, DB, HOME, LIMITER, SYNC_QUEUE, SYNC_DLQ } = env;
    return {
      ...committedVars(),
      LOG_LEVEL: "silent", // the refusals are logged; not worth printing here
      JWT_SIGNING_KEYS,
      REFRESH_TOKEN_SECRET,
      ENCRYPTION_KEYS,
      DB,
      HOME,
      LIMITER,
      SYNC_QUEUE,
      SYNC_DLQ,
    };
  };
  const get = (envOf: object, path: string) =>
    worker.fetch(
      new Request(`https://x.test${path}`),
      envOf as Env,
      {
        waitUntil() {},
        passThroughOnException() {},
        props: {},
      } as unknown as ExecutionContext,
    );

  it("says ENVIRONMENT=production, and a plain deploy of it serves no development route", async () => {
    expect(committedVars().ENVIRONMENT).toBe("production");
    const outboxRes = await get(deployed(), "/api/v1/dev/outbox?to=a@b.co");
    expect(outboxRes.status).toBe(503);
    expect((await problem(outboxRes)).code).toBe("misconfigured");
    expect((await get(deployed(), "/sandbox/v1/oauth/authorize")).status).toBe(503);
  });

  it("a configured production answers 404 to every development route, named exactly", async () => {
    const prod = productionEnv();
    for (const path of [
      "/api/v1/dev/outbox?to=a@b.co",
      "/api/v1/dev/sandbox/clock",
      "/sandbox/v1/oauth/authorize?client_id=ledgerlink-sandbox",
      "/sandbox/trader/v1/accounts",
    ]) {
      expect((await get(prod, path)).status, path).toBe(404);
    }
  });

  it("development must be asked for: no ENVIRONMENT at all refuses to serve", async () => {
    const { ENVIRONMENT: _, ...none } = deployed();
    expect((await get(none, "/api/v1/dev/outbox?to=a@b.co")).status).toBe(503);
  });
});

describe("9: live-event sockets close when their token stops counting", () => {
  /** Opens the user's event socket; `closed` settles with how it closes. */
  async function socketOf(t: Tokens): Promise<{ closed: Promise<{ code: number; reason: string }> }> {
    const res = await exports.default.fetch(
      new Request("https://x.test/api/v1/events", {
        headers: { Upgrade: "websocket", Authorization: `Bearer ${t.access_token}` },
      }),
    );
    expect(res.status).toBe(101);
    const ws = res.webSocket as WebSocket;
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })),
    );
    ws.accept();
    return { closed };
  }

  it("on an administrator's rotation of the user's tokens", async () => {
    const admin = await loggedInAdmin("ws-admin");
    const user = await loggedIn("ws-rotated");
    const { closed } = await socketOf(user.tokens);
    await authed(admin.tokens.access_token, `/api/v1/admin/users/${user.tokens.user.id}/rotate-tokens`, {
      method: "POST",
    });
    expect(await closed).toEqual({ code: 4001, reason: "tokens rotated" });
  });

  it("when the access token it opened with expires", async () => {
    const user = await loggedIn("ws-expiry");
    const { closed } = await socketOf(user.tokens);
    const stub = homeOf(user.tokens.user.id);
    await runInDurableObject(stub, (_, state) => {
      for (const ws of state.getWebSockets()) {
        ws.serializeAttachment({ ...(ws.deserializeAttachment() as object), expiresAt: Date.now() - 1 });
      }
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await closed).toEqual({ code: 4001, reason: "access token expired" });
  });
});

describe("10: the refresh grace path is audited and documented", () => {
  it("a rotated token presented again within the window is recorded", async () => {
    const { tokens } = await loggedIn("grace");
    const first = await post("/api/v1/auth/refresh", { refresh_token: tokens.refresh_token });
    const again = await post("/api/v1/auth/refresh", { refresh_token: tokens.refresh_token });
    expect([first.status, again.status]).toEqual([200, 200]);
    const rows = await env.DB.prepare(
      "SELECT details FROM audit_events WHERE action = 'auth.refresh' AND session_id = ? AND json_extract(details, '$.grace') = 1",
    )
      .bind(tokens.session_id)
      .all();
    expect(rows.results).toHaveLength(1);
    const doc = (await (await call("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { description?: string }>>;
    };
    expect(doc.paths["/api/v1/auth/refresh"]?.post?.description).toMatch(/grace/i);
  });
});

describe("11: backup codes are stored under a server key", () => {
  it("the table alone cannot be searched for a code", async () => {
    const { tokens } = await loggedIn("backup");
    const setup = await authed(tokens.access_token, "/api/v1/auth/mfa/totp/setup", {
      method: "POST",
      json: { password: PASSWORD },
    });
    const { secret } = (await setup.json()) as { secret: string };
    const key = base32Decode(secret) as Uint8Array;
    const code = await totpAt(key, totpStep(Date.now()) - 1);
    const on = await authed(tokens.access_token, "/api/v1/auth/mfa/totp/enable", { method: "POST", json: { code } });
    const { backup_codes } = (await on.json()) as { backup_codes: string[] };
    const stored = (
      await env.DB.prepare("SELECT code_hash FROM mfa_backup_codes WHERE user_id = ?")
        .bind(tokens.user.id)
        .all<{ code_hash: string }>()
    ).results.map((r) => r.code_hash);
    for (const c of backup_codes) {
      const plain = c.toLowerCase().replace(/[^a-z0-9]/g, "");
      expect(stored).not.toContain(await sha256Hex(`mfa_backup:${plain}`));
      expect(stored).not.toContain(await sha256Hex(plain));
    }
  });
});

describe("12: a user's security log does not show an administrator's IP, device or location", () => {
  it("shows only 'by an administrator'", async () => {
    const admin = await loggedInAdmin("log-admin");
    const user = await loggedIn("logged");
    await authed(admin.tokens.access_token, `/api/v1/admin/users/${user.tokens.user.id}/revoke-sessions`, {
      method: "POST",
      headers: { "CF-Connecting-IP": "192.0.2.222", "User-Agent": "AdminBrowser/1.0 (Windows NT 10.0)" },
    });
    const fresh = (await (await login(user.email)).json()) as Tokens;
    const res = await authed(fresh.access_token, "/api/v1/auth/security-events?limit=50");
    const { events } = (await res.json()) as { events: Record<string, unknown>[] };
    const byAdmin = events.find((e) => e.action === "session.revoked");
    expect(byAdmin).toMatchObject({ by: "administrator", ip_address: null, location: null });
    expect(JSON.stringify(events)).not.toContain("192.0.2.222");
  });
});

describe("13: the name typed at sign-up is not put into email to an unverified address", () => {
  it("a stranger registering your address cannot write to you", async () => {
    const victim = uniqueEmail("inbox");
    await register(victim, PASSWORD, "URGENT call +1 555 0100 to keep your account");
    const mail = await emailTo(victim, /confirm your email/i);
    expect(mail.text).not.toContain("URGENT");
    expect(mail.html).not.toContain("URGENT");
  });
});

describe("14: revoking all sessions leaves no window for a session created meanwhile", () => {
  it("a login racing the revocation does not keep a working access token", async () => {
    const { email, tokens } = await loggedIn("racer");
    const real = (await testDeps()).homes;
    let racer: Tokens | undefined;
    // The attacker's login lands after the Gate is first told and before D1 revokes.
    const raced = async () => {
      if (!racer) racer = (await (await login(email)).json()) as Tokens;
    };
    const homes: typeof real = {
      ...real,
      revokeBefore: async (...a) => {
        await real.revokeBefore(...a);
        await raced();
      },
      revokeSessions: async (...a) => {
        await real.revokeSessions(...a);
        await raced();
      },
    };
    const deps = await testDeps({ homes });
    const meta = {
      requestId: "r",
      traceId: "0af7651916cd43dd8448eb211c80319c",
      method: "DELETE",
      path: "/x",
      ip: null,
      clientKey: "unknown",
      userAgent: null,
      location: null,
    };
    await revokeSessions(deps, meta, { userId: tokens.user.id }, { actorId: tokens.user.id, reason: "test" });
    expect(racer).toBeDefined();
    expect(await codeOf(await me(racer as Tokens))).toBe("session_revoked");
    expect(await codeOf(await me(tokens))).toBe("session_revoked");
  });
});

describe("15: token buckets are exact across a Durable Object eviction", () => {
  it("evicting the client's Gate does not refill its login bucket", async () => {
    const ip = "203.0.113.150";
    const attempt = () =>
      post("/api/v1/auth/login", { email: uniqueEmail("g"), password: WRONG }, { headers: { "CF-Connecting-IP": ip } });
    for (let i = 0; i < 5; i++) expect((await attempt()).status).toBe(401);
    expect((await attempt()).status).toBe(429);
    await evictDurableObject(limiterOf(`ip:${ip}`));
    expect((await attempt()).status).toBe(429);
  });
});

describe("16: changing the password keeps the current session usable", () => {
  it("the same access token works right after a successful change", async () => {
    const { tokens } = await loggedIn("keeper");
    const res = await authed(tokens.access_token, "/api/v1/auth/change-password", {
      method: "POST",
      json: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    expect(res.status).toBe(200);
    expect(await codeOf(await me(tokens))).toBe("ok");
  });
});

describe("17: production refuses obviously weak secrets", () => {
  const issuesOf = async (vars: Record<string, string>) => {
    try {
      await parseConfig({ ...productionEnv(), ...vars });
      return [];
    } catch (err) {
      return (err as { issues: { key: string }[] }).issues.map((i) => i.key);
    }
  };
  const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

  it("a repeated pattern or an all-zero key is refused, a random one accepted", async () => {
    const pattern = new TextEncoder().encode("0123456789abcdef0123456789abcdef");
    expect(await issuesOf({ REFRESH_TOKEN_SECRET: b64(pattern) })).toContain("REFRESH_TOKEN_SECRET");
    expect(await issuesOf({ ENCRYPTION_KEYS: `prod1:${b64(new Uint8Array(32))}` })).toContain("ENCRYPTION_KEYS");
    expect(await issuesOf({ ENCRYPTION_KEYS: `prod1:${b64(pattern)}` })).toContain("ENCRYPTION_KEYS");
    expect(await issuesOf({})).toEqual([]);
  });
});
