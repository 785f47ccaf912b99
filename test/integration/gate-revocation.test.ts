import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { testClock } from "../../src/clock";
import { loggedInAdmin } from "../support/admin";
import { homeOf } from "../support/home";
import { call, problem } from "../support/http";
import { authed, loggedIn, login, type Tokens } from "../support/identity";

const me = (t: Tokens) => authed(t.access_token, "/api/v1/auth/me");
const codeOf = async (r: Response) => (r.status === 200 ? "ok" : (await problem(r)).code);
const refresh = (t: Tokens) =>
  call("/api/v1/auth/refresh", { method: "POST", json: { refresh_token: t.refresh_token } });

// Time only moves forward within this file (a token from before a rotation stays refused).
afterAll(() => testClock.reset());

describe("sessions API", () => {
  it("lists own sessions with device, IP, location, the current one marked", async () => {
    const ua =
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
    const { email, tokens } = await loggedIn("lister");
    await login(email, undefined, { "User-Agent": ua, "CF-Connecting-IP": "192.0.2.8" });
    const res = await authed(tokens.access_token, "/api/v1/auth/sessions");
    expect(res.status).toBe(200);
    const { sessions } = (await res.json()) as { sessions: Record<string, unknown>[] };
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current).map((s) => s.id)).toEqual([tokens.session_id]);
    const phone = sessions.find((s) => s.ip_address === "192.0.2.8");
    expect(phone?.device).toEqual({ browser: "Safari", os: "iOS", type: "mobile" });
    expect(phone?.user_agent).toBe(ua);
  });

  it("revokes one other session at once; the current one needs logout (409); others' are 404", async () => {
    const { email, tokens } = await loggedIn("revoker");
    const other = (await (await login(email)).json()) as Tokens;
    const stranger = await loggedIn("stranger");
    const self = await authed(tokens.access_token, `/api/v1/auth/sessions/${tokens.session_id}`, { method: "DELETE" });
    expect(self.status).toBe(409);
    expect((await problem(self)).code).toBe("cannot_revoke_current_session");
    const foreign = await authed(tokens.access_token, `/api/v1/auth/sessions/${stranger.tokens.session_id}`, {
      method: "DELETE",
    });
    expect(foreign.status).toBe(404);
    expect(await codeOf(await me(stranger.tokens))).toBe("ok");
    expect(
      (await authed(tokens.access_token, `/api/v1/auth/sessions/${other.session_id}`, { method: "DELETE" })).status,
    ).toBe(204);
    expect(await codeOf(await me(other))).toBe("session_revoked");
    expect(await codeOf(await refresh(other))).toBe("invalid_refresh_token");
    expect(await codeOf(await me(tokens))).toBe("ok");
  });

  it("revokes others (current stays) and all (current too)", async () => {
    const { email, tokens } = await loggedIn("bulk");
    const a = (await (await login(email)).json()) as Tokens;
    const b = (await (await login(email)).json()) as Tokens;
    const others = await authed(tokens.access_token, "/api/v1/auth/sessions/others", { method: "DELETE" });
    expect(await others.json()).toEqual({ revoked: 2 });
    expect([await codeOf(await me(a)), await codeOf(await me(b)), await codeOf(await me(tokens))]).toEqual([
      "session_revoked",
      "session_revoked",
      "ok",
    ]);
    const all = await authed(tokens.access_token, "/api/v1/auth/sessions/all", { method: "DELETE" });
    expect(await all.json()).toEqual({ revoked: 1 });
    expect(await codeOf(await me(tokens))).toBe("session_revoked");
  });
});

describe("revocation persists in the Gate until the access token expires", () => {
  it("survives the Gate's in-memory state being lost, and its alarm cleans up afterwards", async () => {
    const { tokens } = await loggedIn("persist");
    await authed(tokens.access_token, "/api/v1/auth/logout", { method: "POST" });
    const stub = homeOf(tokens.user.id);
    const stored = await runInDurableObject(stub, (_, state) =>
      state.storage.sql.exec<{ session_id: string; until: number }>("SELECT * FROM revoked_sessions").toArray(),
    );
    expect(stored.map((r) => r.session_id)).toEqual([tokens.session_id]);
    const ttl = (stored[0]?.until ?? 0) - Date.now();
    expect(ttl).toBeGreaterThan(900_000);
    expect(ttl).toBeLessThanOrEqual(960_000);
    // A fresh instance (memory gone) reloads the revocation from storage.
    await evictDurableObject(stub);
    expect(await codeOf(await me(tokens))).toBe("session_revoked");
    // Once the access token could no longer be valid, the alarm forgets the revocation.
    await runInDurableObject(stub, (_, state) => {
      state.storage.sql.exec("UPDATE revoked_sessions SET until = ?", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const left = await runInDurableObject(stub, (_, state) =>
      state.storage.sql.exec("SELECT count(*) AS n FROM revoked_sessions").one(),
    );
    expect(left.n).toBe(0);
  });
});

describe("token rotation", () => {
  it("admin per-user rotation: every token of that user stops at once, nobody else's", async () => {
    const admin = await loggedInAdmin();
    const victim = await loggedIn("victim");
    const bystander = await loggedIn("bystander");
    const res = await authed(admin.tokens.access_token, `/api/v1/admin/users/${victim.tokens.user.id}/rotate-tokens`, {
      method: "POST",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ token_version: 1 });
    expect(await codeOf(await me(victim.tokens))).toBe("token_revoked");
    expect(await codeOf(await refresh(victim.tokens))).toBe("invalid_refresh_token");
    expect(await codeOf(await me(bystander.tokens))).toBe("ok");
    expect(await codeOf(await me(admin.tokens))).toBe("ok");
    const fresh = (await (await login(victim.email)).json()) as Tokens;
    expect(await codeOf(await me(fresh))).toBe("ok");
  });

  it("global rotation: refresh tokens stop at once, access tokens once Gates re-read (≤ 60 s)", async () => {
    const admin = await loggedInAdmin("global-admin");
    const user = await loggedIn("global-user");
    expect(await codeOf(await me(user.tokens))).toBe("ok");
    const res = await authed(admin.tokens.access_token, "/api/v1/admin/security/rotate-tokens", {
      method: "POST",
      json: { reason: "signing key exposure drill" },
    });
    expect(await res.json()).toEqual({ global_token_version: 1 });
    expect(await codeOf(await refresh(user.tokens))).toBe("invalid_refresh_token");
    // The user's Gate re-reads the global rotation within 60 s: move the clock past its cache.
    testClock.advance(61_000);
    expect(await codeOf(await me(user.tokens))).toBe("token_revoked");
    // Tokens issued after the rotation work.
    const fresh = (await (await login(user.email)).json()) as Tokens;
    expect(await codeOf(await me(fresh))).toBe("ok");
  });
});

describe("last activity", () => {
  it("is written to D1 at most once a minute per session, not on every request", async () => {
    const { tokens } = await loggedIn("active");
    const lastActive = () =>
      env.DB.prepare("SELECT last_active_at AS t FROM sessions WHERE id = ?")
        .bind(tokens.session_id)
        .first<number>("t");
    // `env` serving waits for each request's deferred work, so "not written" is a fact, not a race.
    const read = () => authed(tokens.access_token, "/api/v1/auth/me", { env });
    await env.DB.prepare("UPDATE sessions SET last_active_at = 0 WHERE id = ?").bind(tokens.session_id).run();
    expect(await codeOf(await read())).toBe("ok");
    expect(await lastActive()).toBeGreaterThan(0);
    await env.DB.prepare("UPDATE sessions SET last_active_at = 0 WHERE id = ?").bind(tokens.session_id).run();
    for (let i = 0; i < 5; i++) expect((await read()).status).toBe(200);
    expect(await lastActive()).toBe(0);
    // A minute on, the next request is worth one write again.
    testClock.advance(61_000);
    expect(await codeOf(await read())).toBe("ok");
    expect(await lastActive()).toBeGreaterThan(0);
  });
});
