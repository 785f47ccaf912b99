// The second security pass (issue 19), item by item: each test is the attacker's HTTP sequence
// (or, where the attack is a race, the same sequence with the race forced: a provider that
// answers only when the test lets it), written to fail on the code before the fix.
// docs/security.md maps each item to its fix.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testClock } from "../../src/clock";
import { parseConfig } from "../../src/config";
import { base32Decode, totpAt, totpStep } from "../../src/crypto/totp";
import { findUserById } from "../../src/db/users";
import { DomainError } from "../../src/errors";
import { createProviderRegistry } from "../../src/providers/registry";
import { restoreHome } from "../../src/services/admin/users";
import { eraseAccount } from "../../src/services/identity/erase";
import { changePassword } from "../../src/services/identity/passwords";
import { runSyncAttempt } from "../../src/services/sync/execute";
import committedWrangler from "../../wrangler.toml?raw";
import { loggedInAdmin } from "../support/admin";
import { connectSandbox } from "../support/connections";
import { depsWithObjects, HOURLY_CRON, runCron, testDeps } from "../support/deps";
import { homeOf, homeSql } from "../support/home";
import { type CallInit, call, envWith, problem, randomIp } from "../support/http";
import { authed, login, PASSWORD, type Tokens, tokenFromEmail, uniqueEmail } from "../support/identity";
import { productionEnv } from "../support/production";
import { seededSession } from "../support/seed";
import { attempt, queuedRun } from "../support/sync";

const META = {
  requestId: "t",
  traceId: "0af7651916cd43dd8448eb211c80319c",
  method: "POST",
  path: "/t",
  ip: null,
  clientKey: "t",
  userAgent: null,
  location: null,
};
const post = (path: string, json: unknown, init: CallInit = {}) => call(path, { ...init, method: "POST", json });
const from = (ip: string): CallInit => ({ headers: { "CF-Connecting-IP": ip } });

/**
 * A provider that answers its data calls only when the test says so: the sync is caught in the
 * middle of talking to the provider (the "slow provider" of a race).
 */
function heldProvider() {
  let release: () => void = () => undefined;
  let reached: () => void = () => undefined;
  const released = new Promise<void>((r) => {
    release = r;
  });
  const inFlight = new Promise<void>((r) => {
    reached = r;
  });
  const wrapFetch =
    (next: typeof fetch): typeof fetch =>
    async (input, init) => {
      const req = new Request(input, init);
      if (new URL(req.url).pathname.endsWith("/transactions")) {
        reached();
        await released;
      }
      return next(req);
    };
  return { wrapFetch, inFlight, release };
}

/** Sync deps whose provider calls are held (see heldProvider). */
async function heldSync() {
  const held = heldProvider();
  const config = await parseConfig({ ...env });
  const deps = await testDeps({ providers: createProviderRegistry(config, { wrapFetch: held.wrapFetch }) });
  return { deps, held };
}

/** What a user can still read of their money: accounts, and every line of their export. */
async function visibleData(tokens: Tokens) {
  const accounts = (await (await authed(tokens.access_token, "/api/v1/accounts")).json()) as { accounts: unknown[] };
  const exported = await authed(tokens.access_token, "/api/v1/auth/me/export", {
    method: "POST",
    json: { password: PASSWORD },
  });
  expect(exported.status).toBe(200);
  const types = (await exported.text())
    .trim()
    .split("\n")
    .map((l) => (JSON.parse(l) as { type: string }).type);
  return { accounts: accounts.accounts.length, exported: types.filter((t) => t === "account" || t === "transaction") };
}

/** Rows of each ledger table in a user's home. */
async function ledgerRows(userId: string) {
  const count = async (table: string) =>
    (await homeSql<{ n: number }>(userId, `SELECT COUNT(*) AS n FROM ${table}`))[0]?.n;
  return {
    connections: await count("ledger_connections"),
    accounts: await count("accounts"),
    holdings: await count("holdings"),
    transactions: await count("transactions"),
  };
}

const EMPTY_LEDGER = { connections: 0, accounts: 0, holdings: 0, transactions: 0 };

describe("1: deleted data never comes back", () => {
  it("a connection deleted while its sync talks to the provider stays deleted, data and all", async () => {
    const { tokens } = await seededSession("race-connection");
    const t = tokens.access_token;
    const connection = await connectSandbox(t);
    const { deps, held } = await heldSync();
    const running = runSyncAttempt(deps, await queuedRun(connection.id), 1);
    await held.inFlight;
    const runs = (await (await authed(t, `/api/v1/connections/${connection.id}/syncs`)).json()) as {
      syncs: { status: string }[];
    };
    expect(runs.syncs[0]?.status).toBe("running");
    expect((await authed(t, `/api/v1/connections/${connection.id}`, { method: "DELETE" })).status).toBe(204);
    held.release();
    await running;

    expect(await visibleData(tokens)).toEqual({ accounts: 0, exported: [] });
    expect(await ledgerRows(tokens.user.id)).toEqual(EMPTY_LEDGER);
    expect((await authed(t, `/api/v1/connections/${connection.id}`)).status).toBe(404);
  });

  it("an account deleted while one of its syncs runs leaves nothing in its home, not even the owner", async () => {
    const { tokens } = await seededSession("race-account");
    const connection = await connectSandbox(tokens.access_token);
    const { deps, held } = await heldSync();
    const running = runSyncAttempt(deps, await queuedRun(connection.id), 1);
    await held.inFlight;
    const gone = await authed(tokens.access_token, "/api/v1/auth/me", {
      method: "DELETE",
      json: { password: PASSWORD },
    });
    expect(gone.status).toBe(204);
    held.release();
    await running;

    expect(await ledgerRows(tokens.user.id)).toEqual(EMPTY_LEDGER);
    const owner = await runInDurableObject(homeOf(tokens.user.id), (_, state) => state.storage.kv.get("owner"));
    expect(owner).toBeUndefined();
    expect((await homeSql(tokens.user.id, "SELECT id FROM sync_runs")).length).toBe(0);
  });

  it("a connection retired by a relink while its own sync runs does not come back", async () => {
    const { tokens } = await seededSession("race-relink");
    const t = tokens.access_token;
    const old = await connectSandbox(t, { login: "relinked-login" });
    expect(await attempt(await queuedRun(old.id), 1)).toEqual({ action: "ack" });
    // The old connection's next sync is caught talking to the provider...
    const { deps, held } = await heldSync();
    const running = runSyncAttempt(deps, await queuedRun(old.id), 1);
    await held.inFlight;
    // ...while a new connection to the same login syncs, adopts the accounts and retires it.
    const fresh = await connectSandbox(t, { login: "relinked-login" });
    expect(await attempt(await queuedRun(fresh.id), 1)).toEqual({ action: "ack" });
    held.release();
    await running;

    const accounts = (await (await authed(t, "/api/v1/accounts")).json()) as { accounts: { connection_id: string }[] };
    expect(accounts.accounts).toHaveLength(2);
    expect(accounts.accounts.every((a) => a.connection_id === fresh.id)).toBe(true);
    const rows = await homeSql<{ id: string }>(tokens.user.id, "SELECT id FROM ledger_connections ORDER BY id");
    expect(rows.map((r) => r.id)).toEqual([fresh.id]);
  });

  it("erases the home before the directory, and the hourly job finishes an erasure whose home was out of reach", async () => {
    const { tokens } = await seededSession("erase-late");
    const userId = tokens.user.id;
    const connection = await connectSandbox(tokens.access_token);
    expect(await attempt(await queuedRun(connection.id), 1)).toEqual({ action: "ack" });

    const deps = await depsWithObjects({
      homes: {
        erase: async () => {
          throw new Error("home unreachable");
        },
      },
    });
    const user = await findUserById(deps.db, userId);
    const audit = { occurredAt: new Date(), action: "auth.account_deleted", outcome: "success" as const, userId };
    await expect(eraseAccount(deps, user as NonNullable<typeof user>, audit)).rejects.toMatchObject({
      code: "unavailable",
    });
    // The directory still has the user: no valid token reads a ledger whose directory rows are gone.
    expect(await findUserById(deps.db, userId)).toBeDefined();

    // An hour later the home answers again: the job erases it, then the directory.
    await runCron(HOURLY_CRON, env, Date.now() + 3_600_000);
    expect(await findUserById(deps.db, userId)).toBeUndefined();
    expect(await ledgerRows(userId)).toEqual(EMPTY_LEDGER);
    expect((await authed(tokens.access_token, "/api/v1/auth/me")).status).toBe(401);
  });
});

// TOTP codes are computed from the secret the API returns, as an authenticator app would, with
// the Worker's clock pinned to the middle of a 30-second step.
const STEP_MS = 30_000;
let pinned = 0;
beforeEach(() => {
  pinned = (Math.floor(Date.now() / STEP_MS) + 1) * STEP_MS + STEP_MS / 2;
  testClock.pin(pinned);
});
afterEach(() => testClock.reset());

const codeAt = (secret: string) => totpAt(base32Decode(secret) as Uint8Array, totpStep(pinned));
async function wrongCode(secret: string, n = 0): Promise<string> {
  const key = base32Decode(secret) as Uint8Array;
  const near = await Promise.all([-1, 0, 1].map((d) => totpAt(key, totpStep(pinned) + d)));
  for (let i = n; ; i++) {
    const c = String((Number(near[0]) + 1 + i) % 1_000_000).padStart(6, "0");
    if (!near.includes(c)) return c;
  }
}

/** A verified user with MFA on: their address, tokens and TOTP secret. */
async function mfaUser(tag: string) {
  const { email, tokens } = await seededSession(tag);
  const setup = await authed(tokens.access_token, "/api/v1/auth/mfa/totp/setup", {
    method: "POST",
    json: { password: PASSWORD },
  });
  const { secret } = (await setup.json()) as { secret: string };
  const enable = await authed(tokens.access_token, "/api/v1/auth/mfa/totp/enable", {
    method: "POST",
    json: { code: await codeAt(secret) },
  });
  expect(enable.status).toBe(200);
  // The confirming code's step is spent: move to the next step, as a person would wait.
  pinned += STEP_MS;
  testClock.pin(pinned);
  return { email, tokens, secret };
}

async function mfaToken(email: string, ip = randomIp()): Promise<string> {
  const res = await login(email, PASSWORD, { "CF-Connecting-IP": ip });
  expect(res.status).toBe(200);
  return ((await res.json()) as { mfa_token: string }).mfa_token;
}

const verify = (mfa_token: string, code: string, ip = randomIp()) =>
  post("/api/v1/auth/mfa/verify", { mfa_token, code }, from(ip));

describe("2: the second factor cannot be guessed without limit", () => {
  it("a challenge dies after 5 wrong codes, whatever addresses they come from", async () => {
    const { email, secret } = await mfaUser("mfa-challenge");
    const token = await mfaToken(email);
    for (let i = 0; i < 5; i++) {
      const res = await verify(token, await wrongCode(secret, i));
      expect((await problem(res)).code).toBe("invalid_mfa_code");
    }
    const right = await verify(token, await codeAt(secret));
    expect(right.status).toBe(401);
    expect((await problem(right)).code).toBe("invalid_mfa_token");
  });

  it("wrong codes from many addresses and challenges stop at the account's limit, the right code included", async () => {
    const { email, secret } = await mfaUser("mfa-many");
    let refused: Response | null = null;
    // The attack of the review: fresh challenges and fresh addresses, a few codes each.
    for (let i = 0; i < 60 && !refused; i++) {
      const token = await mfaToken(email);
      const res = await verify(token, await wrongCode(secret, i));
      if (res.status === 429) refused = res;
      else expect((await problem(res)).code).toBe("invalid_mfa_code");
    }
    expect(refused, "never limited").not.toBeNull();
    expect(Number(refused?.headers.get("Retry-After"))).toBeGreaterThan(0);
    // The right code from yet another address is refused too while the limit holds.
    const right = await verify(await mfaToken(email), await codeAt(secret));
    expect(right.status).toBe(429);
  });

  it("wrong codes while deleting the account count toward the same per-account limit", async () => {
    const { tokens, secret } = await mfaUser("mfa-delete");
    let limited = false;
    for (let i = 0; i < 30 && !limited; i++) {
      const res = await authed(tokens.access_token, "/api/v1/auth/me", {
        method: "DELETE",
        json: { password: PASSWORD, code: await wrongCode(secret, i) },
        headers: { "CF-Connecting-IP": randomIp() },
      });
      if (res.status === 429) limited = true;
      else expect((await problem(res)).code).toBe("invalid_mfa_code");
    }
    expect(limited).toBe(true);
  });
});

describe("3: admin rights from ADMIN_EMAILS last only while the address is listed", () => {
  it("registering while listed stores no admin role; removing the address demotes at once", async () => {
    const email = uniqueEmail("listed");
    const listed = envWith({ ADMIN_EMAILS: email });
    expect(
      (
        await call("/api/v1/auth/register", {
          method: "POST",
          json: { email, password: PASSWORD, name: "L" },
          env: listed,
        })
      ).status,
    ).toBe(202);
    const row = await env.DB.prepare("SELECT role FROM users WHERE email = ?").bind(email).first<{ role: string }>();
    expect(row?.role).toBe("user");
    const token = await tokenFromEmail(email, /confirm your email/i);
    expect((await post("/api/v1/auth/verify-email", { token })).status).toBe(200);
    const tokens = (await (
      await call("/api/v1/auth/login", { method: "POST", json: { email, password: PASSWORD }, env: listed })
    ).json()) as Tokens;
    const me = (e: Env) =>
      call("/api/v1/auth/me", { headers: { Authorization: `Bearer ${tokens.access_token}` }, env: e });
    const users = (e: Env) =>
      call("/api/v1/admin/users", { headers: { Authorization: `Bearer ${tokens.access_token}` }, env: e });
    expect(((await (await me(listed)).json()) as { role: string }).role).toBe("admin");
    expect((await users(listed)).status).toBe(200);
    // The operator removes the address and restarts.
    const unlisted = envWith({ ADMIN_EMAILS: "" });
    expect(((await (await me(unlisted)).json()) as { role: string }).role).toBe("user");
    expect((await users(unlisted)).status).toBe(403);
  });

  it("an unverified listed address is not an administrator", async () => {
    const email = uniqueEmail("listed-unverified");
    const listed = envWith({ ADMIN_EMAILS: email });
    await call("/api/v1/auth/register", {
      method: "POST",
      json: { email, password: PASSWORD, name: "U" },
      env: listed,
    });
    const config = await parseConfig({ ...listed });
    const { isAdmin } = await import("../../src/services/identity/users");
    const user = await env.DB.prepare("SELECT * FROM users WHERE email = ?")
      .bind(email)
      .first<Record<string, unknown>>();
    expect(isAdmin(config, { role: "user", email, emailVerifiedAt: null })).toBe(false);
    expect(user?.role).toBe("user");
  });

  it("the migration demotes roles written by configuration and keeps those granted by an administrator", async () => {
    const db = env.MIGRATION_DB;
    const cut = env.TEST_MIGRATIONS.findIndex((m) => m.name.startsWith("0013_"));
    expect(cut).toBeGreaterThan(0);
    const { applyD1Migrations } = await import("cloudflare:test");
    await applyD1Migrations(db, env.TEST_MIGRATIONS.slice(0, cut));
    const user = (id: string) =>
      db
        .prepare(
          "INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at) VALUES (?, ?, 'x', 'x', 'admin', 1, 1)",
        )
        .bind(id, `${id}@example.com`);
    await db.batch([
      user("usr_by_config"),
      user("usr_by_grant"),
      db.prepare(
        "INSERT INTO audit_inbox (id, occurred_at, action, outcome, user_id, actor_id, details) VALUES ('evt_grant', 1, 'admin.user_updated', 'success', 'usr_by_grant', 'usr_root', '{\"role\":{\"from\":\"user\",\"to\":\"admin\"},\"changed\":true}')",
      ),
    ]);
    await applyD1Migrations(db, env.TEST_MIGRATIONS);
    const rows = await db
      .prepare("SELECT id, role FROM users WHERE id IN ('usr_by_config', 'usr_by_grant') ORDER BY id")
      .all();
    expect(rows.results).toEqual([
      { id: "usr_by_config", role: "user" },
      { id: "usr_by_grant", role: "admin" },
    ]);
  });
});

describe("4: nobody keeps an owner out of login", () => {
  it("twenty wrong passwords from twenty clients do not refuse the client the owner logged in from", async () => {
    const { email } = await seededSession("owner-known");
    const home = randomIp();
    expect((await login(email, PASSWORD, { "CF-Connecting-IP": home })).status).toBe(200);
    for (let i = 0; i < 20; i++) {
      const res = await login(email, "Wrong-Password-1!", { "CF-Connecting-IP": randomIp() });
      expect(res.status).toBe(401);
    }
    // A stranger is limited now...
    expect((await login(email, "Wrong-Password-1!", { "CF-Connecting-IP": randomIp() })).status).toBe(429);
    // ...but the owner's own client gets in, with the right password.
    expect((await login(email, PASSWORD, { "CF-Connecting-IP": home })).status).toBe(200);
  });

  it("successful logins do not count toward the per-address limit", async () => {
    const { email } = await seededSession("owner-busy");
    for (let i = 0; i < 25; i++) {
      expect((await login(email, PASSWORD, { "CF-Connecting-IP": randomIp() })).status, `login ${i}`).toBe(200);
    }
  });
});

describe("5: development routes stay out of production", () => {
  it("refuses before validating, and the production document lists no development operation", async () => {
    const prod = productionEnv();
    expect((await call("/api/v1/dev/outbox", { env: prod })).status).toBe(404);
    expect((await call("/api/v1/dev/outbox?to=a@example.com", { env: prod })).status).toBe(404);
    expect(
      (await call("/api/v1/dev/sandbox/simplefin/setup-token", { method: "POST", json: {}, env: prod })).status,
    ).toBe(404);
    const doc = (await (await call("/openapi.json", { env: prod })).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.includes("/dev/"))).toEqual([]);
    // Development still documents them.
    const dev = (await (await call("/openapi.json")).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(dev.paths).some((p) => p.includes("/dev/"))).toBe(true);
  });
});

describe("6: a full export needs more than an access token", () => {
  it("GET no longer exports; POST asks for the password and counts wrong ones", async () => {
    const { tokens } = await seededSession("exporter");
    const t = tokens.access_token;
    const got = await authed(t, "/api/v1/auth/me/export");
    expect(got.status).toBe(405);
    expect((await authed(t, "/api/v1/auth/me/export", { method: "POST", json: {} })).status).toBe(422);
    const wrong = await authed(t, "/api/v1/auth/me/export", {
      method: "POST",
      json: { password: "Wrong-Password-1!" },
    });
    expect((await problem(wrong)).code).toBe("invalid_credentials");
    const audit = await env.DB.prepare(
      "SELECT outcome FROM audit_events WHERE user_id = ? AND action = 'auth.account_exported' ORDER BY occurred_at",
    )
      .bind(tokens.user.id)
      .all<{ outcome: string }>();
    expect(audit.results.map((r) => r.outcome)).toEqual(["failure"]);
    const right = await authed(t, "/api/v1/auth/me/export", { method: "POST", json: { password: PASSWORD } });
    expect(right.status).toBe(200);
    expect(right.headers.get("Content-Type")).toMatch(/^application\/x-ndjson/);
    expect((await right.text()).trim().split("\n").at(-1)).toContain('"type":"end"');
  });

  it("with MFA on, the export needs a current code too", async () => {
    const { tokens, secret } = await mfaUser("exporter-mfa");
    const t = tokens.access_token;
    const noCode = await authed(t, "/api/v1/auth/me/export", { method: "POST", json: { password: PASSWORD } });
    expect((await problem(noCode)).code).toBe("invalid_mfa_code");
    const ok = await authed(t, "/api/v1/auth/me/export", {
      method: "POST",
      json: { password: PASSWORD, code: await codeAt(secret) },
    });
    expect(ok.status).toBe(200);
  });
});

/** The Worker's env with every Gate call failing, as during an outage of the objects. */
function gateDown(): Env {
  const deadStub = new Proxy(
    {},
    { get: (_t, p) => (p === "then" ? undefined : () => Promise.reject(new Error("object unreachable"))) },
  );
  const dead = <N extends "HOME" | "LIMITER">(name: N) =>
    ({ idFromName: (n: string) => env[name].idFromName(n), get: () => deadStub }) as unknown as Env[N];
  return { ...env, HOME: dead("HOME"), LIMITER: dead("LIMITER") } as Env;
}

describe("7: security checks fail closed", () => {
  it("login and MFA verification answer 503 gate_unavailable with Retry-After while the Gate is down", async () => {
    const { email, secret } = await mfaUser("fail-closed");
    const token = await mfaToken(email);
    const down = gateDown();
    const res = await call("/api/v1/auth/login", { method: "POST", json: { email, password: PASSWORD }, env: down });
    expect(res.status).toBe(503);
    expect((await problem(res)).code).toBe("gate_unavailable");
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    const mfa = await call("/api/v1/auth/mfa/verify", {
      method: "POST",
      json: { mfa_token: token, code: await codeAt(secret) },
      env: down,
    });
    expect(mfa.status).toBe(503);
    expect((await problem(mfa)).code).toBe("gate_unavailable");
  });

  it("re-authentication refuses rather than skip the lockout when the Gate cannot count", async () => {
    const { tokens } = await seededSession("reauth-closed");
    const unreachable = () => Promise.reject(new Error("gate unreachable"));
    const deps = await depsWithObjects({ limiter: { loginGate: unreachable, loginFailed: unreachable } });
    const auth = { userId: tokens.user.id, sessionId: tokens.session_id };
    const err = await changePassword(deps, META, auth, {
      currentPassword: "Wrong-Password-1!",
      newPassword: "An0ther-Quiet-Heron?",
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err.code).toBe("gate_unavailable");
  });
});

describe("8: a restored home serves nothing before it is reconciled", () => {
  it("a session revoked since stays revoked even when the reconciliation after the restart fails", async () => {
    const admin = await loggedInAdmin("restore-closed");
    const victim = await seededSession("restore-closed-victim");
    const userId = victim.tokens.user.id;
    const kept = (await (await login(victim.email)).json()) as Tokens;
    expect(
      (await authed(kept.access_token, `/api/v1/auth/sessions/${victim.tokens.session_id}`, { method: "DELETE" }))
        .status,
    ).toBe(204);

    const unreachable = () => Promise.reject(new Error("gate unreachable"));
    const deps = await depsWithObjects({
      homes: {
        // Local workerd keeps no history: the rewind is simulated on the real home (its
        // revocations go, as in the older state), then it restarts, as a restore does.
        restore: async (id: string) => {
          await runInDurableObject(homeOf(id), (_, state) => {
            state.storage.sql.exec("DELETE FROM revoked_sessions");
            state.storage.kv.delete("revocation_cutoff");
          });
          await homeOf(id)
            .restart()
            .catch(() => undefined);
          return { undo: "bm" };
        },
        // Everything after the restart fails.
        revokeBefore: unreachable,
        revokeSessions: unreachable,
      },
    });
    const actor = { userId: admin.tokens.user.id, sessionId: admin.tokens.session_id };
    await restoreHome(deps, META, actor, userId, {
      at: new Date(Date.now() - 120_000).toISOString(),
      reason: "x",
    }).catch(() => undefined);

    const stolen = await authed(victim.tokens.access_token, "/api/v1/auth/me");
    expect(stolen.status).toBe(401);
    expect((await problem(stolen)).code).toBe("session_revoked");
  });
});

describe("9: with MFA on, changing email or password asks for a current code", () => {
  it("the password alone is not enough", async () => {
    const { tokens, secret } = await mfaUser("change-mfa");
    const t = tokens.access_token;
    const pw = await authed(t, "/api/v1/auth/change-password", {
      method: "POST",
      json: { current_password: PASSWORD, new_password: "An0ther-Quiet-Heron?" },
    });
    expect((await problem(pw)).code).toBe("invalid_mfa_code");
    const em = await authed(t, "/api/v1/auth/change-email", {
      method: "POST",
      json: { current_password: PASSWORD, new_email: uniqueEmail("moved") },
    });
    expect((await problem(em)).code).toBe("invalid_mfa_code");
    const ok = await authed(t, "/api/v1/auth/change-password", {
      method: "POST",
      json: { current_password: PASSWORD, new_password: "An0ther-Quiet-Heron?", code: await codeAt(secret) },
    });
    expect(ok.status).toBe(200);
  });
});

describe("10: development behaviour needs an explicit local-only switch", () => {
  it("a deploy that says ENVIRONMENT=development or test runs the production checks", async () => {
    for (const environment of ["development", "test"]) {
      const mistaken = envWith({ ENVIRONMENT: environment, LEDGERLINK_LOCAL: "" });
      const res = await call("/api/v1/dev/outbox?to=a@example.com", { env: mistaken });
      // The development secrets fail production's checks: nothing is served, no outbox.
      expect(res.status, environment).toBe(503);
      expect((await problem(res)).code).toBe("misconfigured");
      // With production-grade settings it serves, as production: no dev routes, no sandbox.
      const prodLike = { ...productionEnv(), ENVIRONMENT: environment, LEDGERLINK_LOCAL: "" } as Env;
      expect((await call("/api/v1/dev/outbox?to=a@example.com", { env: prodLike })).status, environment).toBe(404);
      expect((await call("/sandbox/v1/oauth/authorize", { env: prodLike })).status, environment).toBe(404);
    }
  });

  it("the committed wrangler.toml never carries the switch", () => {
    expect(committedWrangler).not.toMatch(/^\s*LEDGERLINK_LOCAL\s*=/m);
  });
});
