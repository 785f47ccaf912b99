import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src";
import { HOURLY_CRON, runCron } from "../support/deps";
import { call, problem } from "../support/http";
import { authed, emailTo, loggedIn, login, outbox, PASSWORD, tokenFromEmail, uniqueEmail } from "../support/identity";
import { productionEnv } from "../support/production";

describe("me", () => {
  it("GET returns the User; PATCH renames with validation", async () => {
    const { email, tokens } = await loggedIn();
    const me = await authed(tokens.access_token, "/api/v1/auth/me");
    expect(await me.json()).toMatchObject({
      email,
      name: "Ada Lovelace",
      email_verified: true,
      role: "user",
      mfa_enabled: false,
    });
    const renamed = await authed(tokens.access_token, "/api/v1/auth/me", {
      method: "PATCH",
      json: { name: "  Ada King " },
    });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toMatchObject({ name: "Ada King" });
    // The home had the old profile cached (in memory too) from the first read: the rename reaches it.
    const after = await authed(tokens.access_token, "/api/v1/auth/me");
    expect(await after.json()).toMatchObject({ name: "Ada King" });
    const bad = await authed(tokens.access_token, "/api/v1/auth/me", { method: "PATCH", json: { name: "" } });
    expect(bad.status).toBe(422);
  });
});

describe("change email", () => {
  it("needs the password, takes effect only once the new address is verified, and tells the old one", async () => {
    const { email, tokens } = await loggedIn();
    const target = uniqueEmail("new");
    const wrong = await authed(tokens.access_token, "/api/v1/auth/change-email", {
      method: "POST",
      json: { new_email: target, current_password: "Wrong-Password-1!" },
    });
    expect((await problem(wrong)).code).toBe("invalid_credentials");
    const res = await authed(tokens.access_token, "/api/v1/auth/change-email", {
      method: "POST",
      json: { new_email: target, current_password: PASSWORD },
    });
    expect(res.status).toBe(202);
    expect((await login(email)).status).toBe(200);
    const token = await tokenFromEmail(target, /confirm your new email/i);
    expect((await call("/api/v1/auth/verify-email", { method: "POST", json: { token } })).status).toBe(200);
    expect((await login(email)).status).toBe(401);
    expect((await login(target)).status).toBe(200);
    // Emails leave through the email queue, after the response: wait for it.
    expect((await emailTo(email, /login email was changed/)).subject).toBe("Your login email was changed");
  });

  it("answers the same for a taken address and sends it nothing", async () => {
    const { tokens } = await loggedIn();
    const { email: taken } = await loggedIn("taken");
    const before = (await outbox(taken)).length;
    const res = await authed(tokens.access_token, "/api/v1/auth/change-email", {
      method: "POST",
      json: { new_email: taken, current_password: PASSWORD },
    });
    expect(res.status).toBe(202);
    expect((await outbox(taken)).length).toBe(before);
  });
});

describe("security events", () => {
  it("shows users their own events, newest first, with cursor pagination", async () => {
    const { email, tokens } = await loggedIn();
    await login(email, "Wrong-Password-1!", { "CF-Connecting-IP": "203.0.113.77" });
    const first = await authed(tokens.access_token, "/api/v1/auth/security-events?limit=2");
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as {
      events: { action: string; outcome: string; ip_address: string }[];
      next_cursor: string;
    };
    expect(page1.events).toHaveLength(2);
    expect(page1.events[0]).toMatchObject({ action: "auth.login", outcome: "failure", ip_address: "203.0.113.77" });
    const second = await authed(
      tokens.access_token,
      `/api/v1/auth/security-events?limit=2&cursor=${page1.next_cursor}`,
    );
    const page2 = (await second.json()) as { events: { action: string }[]; next_cursor: string | null };
    const all = [...page1.events, ...page2.events].map((e) => e.action);
    expect(all).toEqual(["auth.login", "auth.login", "auth.email_verified", "auth.register"]);
    expect(page2.next_cursor).toBeNull();
    const bad = await authed(tokens.access_token, "/api/v1/auth/security-events?cursor=nonsense");
    expect(bad.status).toBe(422);
  });
});

describe("audit trail", () => {
  it("is append-only in the database itself", async () => {
    await loggedIn();
    await expect(env.DB.prepare("UPDATE audit_events SET outcome = 'success'").run()).rejects.toThrow(/append-only/);
    await expect(env.DB.prepare("DELETE FROM audit_events").run()).rejects.toThrow(/append-only/);
  });
});

describe("dev outbox", () => {
  it("is 404 in production", async () => {
    const prod = productionEnv();
    const res = await worker.fetch(
      new Request("https://x.test/api/v1/dev/outbox?to=a@example.com"),
      prod,
      createExecutionContext(),
    );
    expect(res.status).toBe(404);
  });
});

describe("scheduled purge", () => {
  it("deletes expired email tokens and long-ended sessions", async () => {
    const { email, tokens } = await loggedIn();
    await call("/api/v1/auth/request-password-reset", { method: "POST", json: { email } });
    await env.DB.prepare("UPDATE email_tokens SET expires_at = 1").run();
    await env.DB.prepare("UPDATE sessions SET revoked_at = 1, revoked_reason = 'test' WHERE id = ?")
      .bind(tokens.session_id)
      .run();
    await runCron(HOURLY_CRON);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM email_tokens").first("n")).toBe(0);
    expect(
      await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE id = ?").bind(tokens.session_id).first("n"),
    ).toBe(0);
    expect(
      await env.DB.prepare("SELECT count(*) AS n FROM refresh_tokens WHERE session_id = ?")
        .bind(tokens.session_id)
        .first("n"),
    ).toBe(0);
  });
});
