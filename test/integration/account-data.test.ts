import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loggedInAdmin } from "../support/admin";
import { AUDIT_LOG } from "../support/audit";
import { connectSandbox } from "../support/connections";
import { HOURLY_CRON, runCron } from "../support/deps";
import { homeSql } from "../support/home";
import { call, patientEnv, problem } from "../support/http";
import { authed, emailTo, login, PASSWORD, type Tokens, verifiedUser } from "../support/identity";
import { seededSession } from "../support/seed";
import { attempt, queuedRun } from "../support/sync";

// Users in control of their data (docs/contract.md "Your data"): export and deletion.

type Line = { type: string; data: Record<string, unknown> };

async function syncedUser(tag: string, login = tag) {
  const s = await seededSession(tag);
  const connection = await connectSandbox(s.tokens.access_token, { login });
  expect(await attempt(await queuedRun(connection.id), 1)).toEqual({ action: "ack" });
  return { ...s, token: s.tokens.access_token, userId: s.tokens.user.id, connection };
}

async function exportOf(token: string) {
  const res = await authed(token, "/api/v1/auth/me/export", { method: "POST", json: { password: PASSWORD } });
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toMatch(/^application\/x-ndjson/);
  expect(res.headers.get("Content-Disposition")).toMatch(/^attachment; filename="ledgerlink-export-/);
  const text = await res.text();
  expect(text.endsWith("\n")).toBe(true);
  return {
    text,
    lines: text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Line),
  };
}

const countOf = (lines: Line[], type: string) => lines.filter((l) => l.type === type).length;

describe("POST /api/v1/auth/me/export", () => {
  it("is the user's whole data, one record a line, in order, ending with the count", async () => {
    const u = await syncedUser("exporter");
    const { text, lines } = await exportOf(u.token);
    expect(lines[0]).toMatchObject({ type: "export", data: { version: 1 } });
    expect(lines[1]).toMatchObject({ type: "user", data: { id: u.userId, email: u.email } });
    const order = [...new Set(lines.map((l) => l.type))];
    expect(order).toEqual([
      "export",
      "user",
      "session",
      "security_event",
      "connection",
      "account",
      "holding",
      "transaction",
      "balance",
      "end",
    ]);
    expect(countOf(lines, "connection")).toBe(1);
    // One balance point per account: one sync, one day.
    expect(countOf(lines, "balance")).toBe(countOf(lines, "account"));
    expect(countOf(lines, "account")).toBe(2);
    expect(countOf(lines, "holding")).toBe(7);
    expect(countOf(lines, "transaction")).toBe(200);
    expect(lines.at(-1)).toEqual({ type: "end", data: { records: lines.length - 1 } });
    // The same shapes as the API's own endpoints.
    const { accounts } = (await (await authed(u.token, "/api/v1/accounts")).json()) as { accounts: unknown[] };
    expect(lines.filter((l) => l.type === "account").map((l) => l.data)).toEqual(accounts);
    // Never credentials, never a hash.
    expect(text).not.toMatch(/access_token|refresh_token|password|_enc"|secret/i);
  });

  it("pages a large ledger through (10,080 transactions) and never holds another user's data", async () => {
    const big = await syncedUser("big-exporter", "big-export");
    const other = await syncedUser("bystander");
    const { text, lines } = await exportOf(big.token);
    expect(countOf(lines, "transaction")).toBe(200);
    // The `large` sandbox login: pages of 1,000 from the home, in bounded memory.
    const large = await connectSandbox(big.token, { scenario: "large", login: "big-export-large" });
    expect(await attempt(await queuedRun(large.id), 1)).toEqual({ action: "ack" });
    const after = await exportOf(big.token);
    expect(countOf(after.lines, "transaction")).toBe(200 + 10_080);
    expect(after.lines.at(-1)).toEqual({ type: "end", data: { records: after.lines.length - 1 } });
    for (const t of [text, after.text]) {
      expect(t).not.toContain(other.userId);
      expect(t).not.toContain(other.email);
      expect(t).not.toContain(other.connection.id);
    }
  });

  it("is complete for a user with nothing yet (empty pages never stall the stream)", async () => {
    const { tokens } = await seededSession("empty-exporter");
    const { lines } = await exportOf(tokens.access_token);
    // Its only security event is this export's own (audited before the first line).
    expect(lines.map((l) => l.type)).toEqual(["export", "user", "session", "security_event", "end"]);
  });

  it("needs a token (401)", async () => {
    const res = await call("/api/v1/auth/me/export", { method: "POST", json: { password: PASSWORD } });
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe("unauthenticated");
  });
});

const userRows = async (userId: string) => ({
  users: (await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE id = ?").bind(userId).first<{ n: number }>())?.n,
  sessions: (
    await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?").bind(userId).first<{ n: number }>()
  )?.n,
  connections: (
    await env.DB.prepare("SELECT COUNT(*) AS n FROM connections WHERE user_id = ?").bind(userId).first<{ n: number }>()
  )?.n,
  pending: (
    await env.DB.prepare("SELECT COUNT(*) AS n FROM pending_erasures WHERE user_id = ?")
      .bind(userId)
      .first<{ n: number }>()
  )?.n,
});

describe("DELETE /api/v1/auth/me", () => {
  it("a stolen token alone cannot delete: the password is needed, and a wrong one counts", async () => {
    const u = await syncedUser("keep-me");
    const wrong = await authed(u.token, "/api/v1/auth/me", {
      method: "DELETE",
      json: { password: "Not-The-Password-1" },
    });
    expect(wrong.status).toBe(401);
    expect((await problem(wrong)).code).toBe("invalid_credentials");
    const none = await authed(u.token, "/api/v1/auth/me", { method: "DELETE", json: {} });
    expect(none.status).toBe(422);
    expect(await userRows(u.userId)).toMatchObject({ users: 1, connections: 1 });
    expect((await authed(u.token, "/api/v1/accounts")).status).toBe(200);
  });

  it("erases the account everywhere: D1, credentials, the home's ledger; tokens stop; an email confirms", async () => {
    const u = await syncedUser("leaver");
    const bystander = await syncedUser("stayer");
    expect((await homeSql(u.userId, "SELECT id FROM transactions")).length).toBe(200);
    const res = await authed(u.token, "/api/v1/auth/me", { method: "DELETE", json: { password: PASSWORD } });
    expect(res.status).toBe(204);

    expect(await userRows(u.userId)).toEqual({ users: 0, sessions: 0, connections: 0, pending: 0 });
    for (const table of ["accounts", "holdings", "transactions", "removals", "sync_runs", "ledger_connections"]) {
      expect(await homeSql(u.userId, `SELECT * FROM ${table}`), table).toEqual([]);
    }
    // The token that did it, and any other, is refused at once; the login is gone.
    const after = await authed(u.token, "/api/v1/accounts");
    expect(after.status).toBe(401);
    expect((await authed(u.token, "/api/v1/auth/me")).status).toBe(401);
    expect((await login(u.email)).status).toBe(401);
    expect((await emailTo(u.email, /account was deleted/)).text).toMatch(/You deleted your Ledgerlink account/);
    // The audit row of the deletion keeps no personal data.
    const row = await env.DB.prepare(
      "SELECT ip_address, user_agent, location, details FROM audit_events WHERE user_id = ? AND action = 'auth.account_deleted' AND outcome = 'success'",
    )
      .bind(u.userId)
      .first<Record<string, unknown>>();
    expect(row).toMatchObject({ ip_address: null, user_agent: null, location: null });
    // Nobody else lost anything.
    expect((await homeSql(bystander.userId, "SELECT id FROM transactions")).length).toBe(200);
    expect((await authed(bystander.token, "/api/v1/accounts")).status).toBe(200);
  });

  it("the audit trail of a deleted user keeps no readable IP, device or location, and loses no event", async () => {
    const ip = "198.51.100.231";
    const ua = "Mozilla/5.0 (Shred-Test; Linux) LeaverBrowser/9.9";
    const email = await verifiedUser("shredded");
    await login(email, "Wrong-Password-1!", { "CF-Connecting-IP": ip, "User-Agent": ua });
    // From another network of theirs, enough failures to lock that client out (an auth.lockout event).
    const other = "203.0.113.219";
    for (let i = 0; i < 10; i++) {
      // patientEnv: the per-IP login limit would answer 429 before the lockout counts ten.
      const json = { email, password: "Wrong-Password-1!" };
      await call("/api/v1/auth/login", {
        method: "POST",
        json,
        headers: { "CF-Connecting-IP": other },
        env: patientEnv,
      });
    }
    const lockouts = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_events WHERE action = 'auth.lockout' AND user_id = (SELECT id FROM users WHERE email = ?)",
    )
      .bind(email)
      .first<{ n: number }>();
    expect(lockouts?.n).toBe(1);
    const ok = await login(email, PASSWORD, { "CF-Connecting-IP": ip, "User-Agent": ua });
    const tokens = (await ok.json()) as Tokens;
    const userId = tokens.user.id;
    const { tokens: admin } = await loggedInAdmin("auditor");
    const trail = async () => {
      const res = await authed(admin.access_token, `/api/v1/admin/audit-events?user_id=${userId}&limit=100`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { events: Record<string, unknown>[] }).events;
    };
    // While the account lives, its trail carries the request context (who logged in, from where).
    const before = await trail();
    expect(before.some((e) => e.ip_address === ip && e.user_agent === ua)).toBe(true);

    const gone = await authed(tokens.access_token, "/api/v1/auth/me", {
      method: "DELETE",
      json: { password: PASSWORD },
      headers: { "CF-Connecting-IP": ip, "User-Agent": ua },
    });
    expect(gone.status).toBe(204);

    // Every event is still there (the trail is append-only), but none can say where or on what.
    const after = await trail();
    expect(after.map((e) => e.id)).toEqual(expect.arrayContaining(before.map((e) => e.id)));
    for (const e of after) expect(e).toMatchObject({ ip_address: null, user_agent: null, location: null });
    // Not in any table D1 holds either: the personal data was erased, not hidden.
    for (const table of ["audit_events", "audit_pii", "sessions"]) {
      const rows = await env.DB.prepare(`SELECT * FROM ${table}`).all();
      const dump = JSON.stringify(rows.results);
      expect(dump, table).not.toContain(ip);
      expect(dump, table).not.toContain(other);
      expect(dump, table).not.toContain("LeaverBrowser");
    }
    await expect(env.DB.prepare("UPDATE audit_events SET path = NULL").run()).rejects.toThrow(/append-only/);
  });

  it("an administrator's deletion erases the home too", async () => {
    const u = await syncedUser("removed");
    const { tokens: admin } = await loggedInAdmin("eraser");
    const res = await authed(admin.access_token, `/api/v1/admin/users/${u.userId}`, { method: "DELETE", json: {} });
    expect(res.status).toBe(204);
    expect(await homeSql(u.userId, "SELECT id FROM accounts")).toEqual([]);
    // The administrator's own request context stays on the record of what they did: it is theirs.
    const byAdmin = await env.DB.prepare(
      `SELECT ip_address FROM ${AUDIT_LOG} WHERE action = 'admin.user_deleted' AND user_id = ?`,
    )
      .bind(u.userId)
      .first<{ ip_address: string | null }>();
    expect(byAdmin?.ip_address).toMatch(/^[0-9a-f.:]+$/);
    expect((await authed(u.token, "/api/v1/accounts")).status).toBe(401);
  });

  it("a home out of reach: 503, the directory kept until the hourly job erases the home, then the user", async () => {
    const u = await syncedUser("unreachable");
    const unreachable = {
      ...env,
      HOME: new Proxy(env.HOME, {
        get(target, key) {
          if (key !== "get") return Reflect.get(target, key).bind(target);
          return (id: DurableObjectId) => {
            const stub = target.get(id);
            return new Proxy(stub, {
              get: (s, k) => (k === "erase" ? () => Promise.reject(new Error("home unreachable")) : Reflect.get(s, k)),
            });
          };
        },
      }),
    } as Env;
    const res = await call("/api/v1/auth/me", {
      method: "DELETE",
      headers: { Authorization: `Bearer ${u.token}` },
      json: { password: PASSWORD },
      env: unreachable,
    });
    // The home goes first (docs/contract.md "Your data"): it could not, so the directory stays
    // whole, the intent is recorded, and the answer says to come back.
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await userRows(u.userId)).toMatchObject({ users: 1, pending: 1 });
    expect((await homeSql(u.userId, "SELECT id FROM transactions")).length).toBe(200);
    await runCron(HOURLY_CRON, env, Date.now() + 120_000);
    expect(await homeSql(u.userId, "SELECT id FROM transactions")).toEqual([]);
    expect(await userRows(u.userId)).toMatchObject({ users: 0, pending: 0 });
    const audit = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'auth.account_deleted' AND user_id = ?",
    )
      .bind(u.userId)
      .first<{ n: number }>();
    expect(audit?.n).toBe(1);
  });
});
