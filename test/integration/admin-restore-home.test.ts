import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { restoreHome } from "../../src/services/admin/users";
import { loggedInAdmin } from "../support/admin";
import { depsWithObjects } from "../support/deps";
import { homeOf, limiterOf } from "../support/home";
import { problem } from "../support/http";
import { authed, login, refresh, type Tokens } from "../support/identity";
import { seededSession } from "../support/seed";

// POST /api/v1/admin/users/{id}/restore-home: Durable Objects point-in-time recovery of one
// user's home (docs/backup-restore.md).

const restore = (token: string, userId: string, json: unknown) =>
  authed(token, `/api/v1/admin/users/${userId}/restore-home`, { method: "POST", json });
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

/** The service itself, called as an administrator (for tests that replace the home's restore). */
const restoreAs = (
  deps: Parameters<typeof restoreHome>[0],
  admin: Tokens,
  userId: string,
  input: { at: string; reason: string },
) => {
  const meta = {
    requestId: "t",
    traceId: "0af7651916cd43dd8448eb211c80319c",
    method: "POST",
    path: "/t",
    ip: null,
    clientKey: "t",
    userAgent: null,
    location: null,
  };
  return restoreHome(deps, meta, { userId: admin.user.id, sessionId: admin.session_id }, userId, input);
};

describe("restoring a user's home", () => {
  it("is for administrators only", async () => {
    const user = await seededSession("restore-self");
    const res = await restore(user.tokens.access_token, user.tokens.user.id, { at: minutesAgo(5), reason: "mine" });
    expect(res.status).toBe(403);
  });

  it("refuses a moment in the future, beyond the 30 days of history, or not a timestamp, with 422", async () => {
    const { tokens: admin } = await loggedInAdmin("restorer");
    const user = await seededSession("restore-bad");
    const cases: [unknown, string][] = [
      [{ at: new Date(Date.now() + 60_000).toISOString(), reason: "future" }, "must be in the past"],
      [{ at: minutesAgo(31 * 24 * 60), reason: "too old" }, "older than the 30 days"],
      [{ at: "yesterday", reason: "words" }, "RFC 3339"],
      [{ at: minutesAgo(5) }, ""],
    ];
    for (const [body, message] of cases) {
      const res = await restore(admin.access_token, user.tokens.user.id, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      const p = await problem(res);
      expect(p.code).toBe("validation_failed");
      expect(JSON.stringify(p.errors)).toContain(message);
    }
    expect((await restore(admin.access_token, "usr_nobody", { at: minutesAgo(5), reason: "who" })).status).toBe(404);
  });

  it("answers 501 restore_not_supported where storage keeps no history (local workerd), audited, nothing changed", async () => {
    const { tokens: admin } = await loggedInAdmin("restorer-local");
    const user = await seededSession("restore-local");
    const res = await restore(admin.access_token, user.tokens.user.id, { at: minutesAgo(5), reason: "bad sync" });
    expect(res.status).toBe(501);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
    expect((await problem(res)).code).toBe("restore_not_supported");
    const row = await env.DB.prepare(
      "SELECT outcome, details FROM audit_events WHERE action = 'admin.home_restored' AND user_id = ?",
    )
      .bind(user.tokens.user.id)
      .first<{ outcome: string; details: string }>();
    expect(row?.outcome).toBe("failure");
    expect(JSON.parse(row?.details ?? "{}")).toMatchObject({ reason: "bad sync", supported: false });
    // Nothing stays staged for the home to apply (it would refuse every token issued before now).
    const global = await limiterOf("global").command({ type: "readGlobal", userId: user.tokens.user.id });
    expect(global).toMatchObject({ restore: null });
    expect((await authed(user.tokens.access_token, "/api/v1/auth/me")).status).toBe(200);
  });

  it("never revives a session revoked since, and brings back no connection deleted since", async () => {
    // The attack: a stolen session is revoked; later an operator restores the home to a moment
    // before that revocation. The restored home has forgotten it, so D1's revocations must be
    // applied again. Local workerd has no point-in-time history, so the rewind is simulated on
    // the real home: its revocations are deleted from storage and it restarts, as a restore does.
    const admin = await loggedInAdmin("restorer-attack");
    const victim = await seededSession("restore-victim");
    const userId = victim.tokens.user.id;
    const before = minutesAgo(2);
    // A device the victim keeps, and a connection deleted after `before` whose data the old state still has.
    const kept = (await (await login(victim.email)).json()) as Tokens;
    // The victim ends the stolen session from the device they keep.
    const revoke = await authed(kept.access_token, `/api/v1/auth/sessions/${victim.tokens.session_id}`, {
      method: "DELETE",
    });
    expect(revoke.status).toBe(204);
    expect((await problem(await authed(victim.tokens.access_token, "/api/v1/auth/me"))).code).toBe("session_revoked");

    const deps = await depsWithObjects({
      homes: {
        restore: async (id: string) => {
          const home = homeOf(id);
          await runInDurableObject(home, (_, state) => {
            state.storage.sql.exec("DELETE FROM revoked_sessions");
            state.storage.kv.delete("revocation_cutoff");
            state.storage.sql.exec(
              "INSERT INTO ledger_connections (id, provider) VALUES ('con_deleted_since', 'sandbox')",
            );
          });
          await home.restart().catch(() => undefined);
          return { undo: "bookmark-before-restore" };
        },
      },
    });
    const answer = await restoreAs(deps, admin.tokens, userId, { at: before, reason: "bad sync" });
    expect(answer).toEqual({ restored_to: before, undo_bookmark: "bookmark-before-restore" });

    // The stolen token stays refused, and its refresh token cannot mint another (D1 knows).
    expect((await problem(await authed(victim.tokens.access_token, "/api/v1/auth/me"))).code).toBe("session_revoked");
    expect((await refresh(victim.tokens.refresh_token)).status).toBe(401);
    // The kept device carries on: its session is live in D1, so it refreshes (its older access
    // tokens are cut off by whole second; one from the cut's own second, as here, still passes).
    const renewed = await refresh(kept.refresh_token);
    expect(renewed.status).toBe(200);
    expect((await authed(((await renewed.json()) as Tokens).access_token, "/api/v1/auth/me")).status).toBe(200);
    // The connection deleted since has no data in the home again.
    const left = await runInDurableObject(homeOf(userId), (_, st) =>
      st.storage.sql.exec("SELECT id FROM ledger_connections WHERE id = 'con_deleted_since'").toArray(),
    );
    expect(left).toEqual([]);
  });

  it("erases the home again when the user was deleted while it was being restored", async () => {
    const admin = await loggedInAdmin("restorer-race");
    const leaver = await seededSession("restore-leaver");
    const userId = leaver.tokens.user.id;
    const deps = await depsWithObjects({
      homes: {
        restore: async (id: string) => {
          // The user deletes their account meanwhile; the restore then brings back the old home.
          await env.DB.prepare("DELETE FROM users WHERE id = ?").bind(id).run();
          await runInDurableObject(homeOf(id), (_, state) => {
            state.storage.sql.exec("INSERT INTO ledger_connections (id, provider) VALUES ('con_old', 'sandbox')");
          });
          return { undo: "bm" };
        },
      },
    });
    await expect(restoreAs(deps, admin.tokens, userId, { at: minutesAgo(2), reason: "race" })).rejects.toMatchObject({
      code: "not_found",
    });
    const left = await runInDurableObject(homeOf(userId), (_, st) =>
      st.storage.sql.exec("SELECT id FROM ledger_connections").toArray(),
    );
    expect(left).toEqual([]);
  });
});
