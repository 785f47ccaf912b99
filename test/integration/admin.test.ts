import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loggedInAdmin } from "../support/admin";
import { call, problem } from "../support/http";
import { authed, emailTo, loggedIn, login, register, type Tokens, tokenFromEmail } from "../support/identity";
import { seededSession } from "../support/seed";

const as =
  (t: Tokens) =>
  (path: string, init: RequestInit & { json?: unknown } = {}) =>
    authed(t.access_token, `/api/v1/admin${path}`, init);

describe("admin access", () => {
  it("is refused to ordinary users (403) and to anonymous callers (401)", async () => {
    const { tokens } = await seededSession("plain");
    // Every administrators' read, each its own router with its own guard.
    for (const path of [
      "/users",
      "/audit-events",
      "/sync/dead-letters",
      "/sync/drifts",
      "/email/dead-letters",
      "/health",
    ]) {
      const res = await as(tokens)(path);
      expect(res.status, path).toBe(403);
      expect((await problem(res)).code).toBe("forbidden");
      expect((await call(`/api/v1/admin${path}`)).status, path).toBe(401);
    }
  });

  it("is granted to addresses in ADMIN_EMAILS", async () => {
    const email = "root@ledgerlink.test";
    await register(email);
    await call("/api/v1/auth/verify-email", {
      method: "POST",
      json: { token: await tokenFromEmail(email, /confirm/i) },
    });
    const tokens = (await (await login(email)).json()) as Tokens;
    expect(tokens.user.role).toBe("admin");
    expect((await as(tokens)("/users")).status).toBe(200);
  });
});

describe("users", () => {
  it("lists with search and cursor pagination", async () => {
    const admin = await loggedInAdmin();
    for (const tag of ["zeta-one", "zeta-two", "zeta-three"]) await seededSession(tag);
    const first = (await (await as(admin.tokens)("/users?q=zeta&limit=2")).json()) as {
      users: { email: string }[];
      next_cursor: string;
    };
    expect(first.users).toHaveLength(2);
    const second = (await (await as(admin.tokens)(`/users?q=zeta&limit=2&cursor=${first.next_cursor}`)).json()) as {
      users: { email: string }[];
      next_cursor: string | null;
    };
    expect(second.users).toHaveLength(1);
    expect(second.next_cursor).toBeNull();
    const all = [...first.users, ...second.users].map((u) => u.email.split(".")[0]);
    expect(all.sort()).toEqual(["zeta-one", "zeta-three", "zeta-two"]);
    expect((await as(admin.tokens)("/users?q=%25")).status).toBe(200);
    expect((await as(admin.tokens)("/users?limit=0")).status).toBe(422);
  });

  it("gets one user with lock state and session count; unknown ids are 404", async () => {
    const admin = await loggedInAdmin();
    const user = await seededSession("counted");
    await login(user.email);
    const res = await as(admin.tokens)(`/users/${user.tokens.user.id}`);
    expect(await res.json()).toMatchObject({
      email: user.email,
      locked: false,
      locked_at: null,
      session_count: 2,
    });
    expect((await as(admin.tokens)("/users/usr_nope")).status).toBe(404);
  });

  it("promotes and demotes idempotently", async () => {
    const admin = await loggedInAdmin();
    const user = await seededSession("promoted");
    const promote = () =>
      as(admin.tokens)(`/users/${user.tokens.user.id}`, { method: "PATCH", json: { role: "admin" } });
    expect(await (await promote()).json()).toMatchObject({ role: "admin" });
    expect(await (await promote()).json()).toMatchObject({ role: "admin" });
    expect((await as(user.tokens)("/users")).status).toBe(200);
    const demote = await as(admin.tokens)(`/users/${user.tokens.user.id}`, { method: "PATCH", json: { role: "user" } });
    expect(await demote.json()).toMatchObject({ role: "user" });
    expect((await as(user.tokens)("/users")).status).toBe(403);
    const empty = await as(admin.tokens)(`/users/${user.tokens.user.id}`, { method: "PATCH", json: {} });
    expect(empty.status).toBe(422);
  });

  it("locks (sessions die at once, login refused) and unlocks", async () => {
    const admin = await loggedInAdmin();
    const user = await seededSession("locked");
    const lock = await as(admin.tokens)(`/users/${user.tokens.user.id}`, { method: "PATCH", json: { locked: true } });
    expect(await lock.json()).toMatchObject({ locked: true, session_count: 0 });
    expect((await problem(await authed(user.tokens.access_token, "/api/v1/auth/me"))).code).toBe("session_revoked");
    const refused = await login(user.email);
    expect(refused.status).toBe(403);
    expect((await problem(refused)).code).toBe("account_disabled");
    await as(admin.tokens)(`/users/${user.tokens.user.id}`, { method: "PATCH", json: { locked: false } });
    expect((await login(user.email)).status).toBe(200);
  });

  it("revokes a user's sessions", async () => {
    const admin = await loggedInAdmin();
    const user = await seededSession("revoked");
    const res = await as(admin.tokens)(`/users/${user.tokens.user.id}/revoke-sessions`, { method: "POST" });
    expect(await res.json()).toEqual({ revoked: 1 });
    expect((await problem(await authed(user.tokens.access_token, "/api/v1/auth/me"))).code).toBe("session_revoked");
  });
});

describe("deleting users", () => {
  it("never yourself (409), never another admin (403)", async () => {
    const admin = await loggedInAdmin();
    const other = await loggedInAdmin("other-admin");
    const self = await as(admin.tokens)(`/users/${admin.tokens.user.id}`, { method: "DELETE" });
    expect(self.status).toBe(409);
    expect((await problem(self)).code).toBe("cannot_delete_self");
    const peer = await as(admin.tokens)(`/users/${other.tokens.user.id}`, { method: "DELETE" });
    expect(peer.status).toBe(403);
    expect((await problem(peer)).code).toBe("cannot_delete_admin");
  });

  it("removes the user and their data, kills sessions at once, emails an escaped message, audits the admin", async () => {
    const admin = await loggedInAdmin();
    const user = await seededSession("doomed");
    const res = await as(admin.tokens)(`/users/${user.tokens.user.id}`, {
      method: "DELETE",
      json: { message: "<b>Bye</b> & good luck" },
    });
    expect(res.status).toBe(204);
    expect((await problem(await authed(user.tokens.access_token, "/api/v1/auth/me"))).code).toBe("session_revoked");
    expect((await login(user.email)).status).toBe(401);
    for (const table of ["users", "sessions", "email_tokens"]) {
      const col = table === "users" ? "id" : "user_id";
      const n = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${col} = ?`)
        .bind(user.tokens.user.id)
        .first("n");
      expect(n, table).toBe(0);
    }
    const mail = await emailTo(user.email, /deleted/);
    expect(mail?.subject).toBe("Your Ledgerlink account was deleted");
    expect(mail?.html).toContain("&lt;b&gt;Bye&lt;/b&gt; &amp; good luck");
    expect(mail?.html).not.toContain("<b>Bye");
    const audit = (await (
      await as(admin.tokens)(`/audit-events?user_id=${user.tokens.user.id}&action=admin.user_deleted`)
    ).json()) as {
      events: { actor_id: string }[];
    };
    expect(audit.events.map((e) => e.actor_id)).toEqual([admin.tokens.user.id]);
  });

  it("accepts a DELETE without a body", async () => {
    const admin = await loggedInAdmin();
    const user = await seededSession("quiet");
    expect((await as(admin.tokens)(`/users/${user.tokens.user.id}`, { method: "DELETE" })).status).toBe(204);
  });
});

describe("audit trail query", () => {
  it("filters by user, action and time, with cursor pagination; every admin action names its actor", async () => {
    const admin = await loggedInAdmin();
    // Through the real flows: the trail must show the user's own register/verify/login events.
    const user = await loggedIn("audited");
    await login(user.email, "Wrong-Password-1!");
    await as(admin.tokens)(`/users/${user.tokens.user.id}`, { method: "PATCH", json: { role: "user" } });
    const q = (s: string) =>
      as(admin.tokens)(`/audit-events?${s}`).then((r) => r.json()) as Promise<{
        events: { action: string; actor_id: string | null; outcome: string }[];
        next_cursor: string | null;
      }>;
    const byUser = await q(`user_id=${user.tokens.user.id}&limit=2`);
    expect(byUser.events).toHaveLength(2);
    expect(byUser.events[0]).toMatchObject({ action: "admin.user_updated", actor_id: admin.tokens.user.id });
    const rest = await q(`user_id=${user.tokens.user.id}&limit=50&cursor=${byUser.next_cursor}`);
    expect(byUser.events[1]).toMatchObject({ action: "auth.login", outcome: "failure" });
    expect(rest.events.map((e) => e.action)).toEqual(["auth.login", "auth.email_verified", "auth.register"]);
    const failures = await q(`action=auth.login&user_id=${user.tokens.user.id}`);
    expect(failures.events.map((e) => e.outcome).sort()).toEqual(["failure", "success"]);
    const future = await q(`since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.events).toEqual([]);
    expect((await as(admin.tokens)("/audit-events?since=yesterday")).status).toBe(422);
  });
});

describe("global rotation input", () => {
  it("requires a reason", async () => {
    const admin = await loggedInAdmin();
    const res = await as(admin.tokens)("/security/rotate-tokens", { method: "POST", json: {} });
    expect(res.status).toBe(422);
  });
});
