import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, patientEnv, problem } from "../support/http";
import {
  authed,
  emailTo,
  loggedIn,
  login,
  NEW_PASSWORD,
  PASSWORD,
  refresh,
  type Tokens,
  tokenFromEmail,
  uniqueEmail,
} from "../support/identity";

const requestReset = (email: string) =>
  call("/api/v1/auth/request-password-reset", { method: "POST", json: { email } });
const reset = (token: string, new_password: string) =>
  call("/api/v1/auth/reset-password", { method: "POST", json: { token, new_password } });

describe("password reset", () => {
  it("answers 202 alike for known and unknown addresses", async () => {
    const { email } = await loggedIn();
    const [a, b] = await Promise.all([requestReset(email), requestReset(uniqueEmail("ghost"))]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(await a.json()).toEqual(await b.json());
  });

  it("resets with a single-use 30-minute token, revokes every session and confirms by email", async () => {
    const { email, tokens } = await loggedIn();
    const second = (await (await login(email)).json()) as Tokens;
    await requestReset(email);
    const token = await tokenFromEmail(email, /reset your password/i);
    const row = await env.DB.prepare(
      "SELECT expires_at - created_at AS ttl FROM email_tokens WHERE purpose = 'reset_password' AND used_at IS NULL AND user_id = (SELECT id FROM users WHERE email = ?)",
    )
      .bind(email)
      .first("ttl");
    expect(row).toBe(30 * 60_000);

    const res = await reset(token, NEW_PASSWORD);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ password_reset: true });
    for (const t of [tokens, second]) {
      expect((await problem(await authed(t.access_token, "/api/v1/auth/me"))).code).toBe("session_revoked");
      expect((await problem(await refresh(t.refresh_token))).code).toBe("invalid_refresh_token");
    }
    await emailTo(email, /password was reset/);
    expect((await login(email, PASSWORD)).status).toBe(401);
    expect((await login(email, NEW_PASSWORD)).status).toBe(200);
    expect((await problem(await reset(token, "Yet-Another-Pass-9!"))).code).toBe("invalid_token");
  });

  it("a weak new password is refused without burning the token", async () => {
    const { email } = await loggedIn();
    await requestReset(email);
    const token = await tokenFromEmail(email, /reset your password/i);
    const weak = await reset(token, "short");
    expect(weak.status).toBe(422);
    expect((await problem(weak)).code).toBe("weak_password");
    expect((await reset(token, NEW_PASSWORD)).status).toBe(200);
  });

  it("lifts the lockout of the client that completed it (the link proved the inbox)", async () => {
    const { email } = await loggedIn();
    const client = { headers: { "CF-Connecting-IP": "203.0.113.71" }, env: patientEnv };
    const attempt = (password: string) =>
      call("/api/v1/auth/login", { ...client, method: "POST", json: { email, password } });
    for (let i = 0; i < 10; i++) await attempt("Wrong-Password-1!");
    expect((await attempt(PASSWORD)).status).toBe(423);
    await requestReset(email);
    const token = await tokenFromEmail(email, /reset your password/i);
    await call("/api/v1/auth/reset-password", {
      ...client,
      method: "POST",
      json: { token, new_password: NEW_PASSWORD },
    });
    expect((await attempt(NEW_PASSWORD)).status).toBe(200);
  });
});

describe("change password", () => {
  const change = (t: Tokens, current_password: string, new_password: string) =>
    authed(t.access_token, "/api/v1/auth/change-password", {
      method: "POST",
      json: { current_password, new_password },
    });

  it("needs the current password", async () => {
    const { tokens } = await loggedIn();
    const res = await change(tokens, "Wrong-Password-1!", NEW_PASSWORD);
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe("invalid_credentials");
  });

  it("revokes every other session and keeps this one working as it is, no new login", async () => {
    const { email, tokens } = await loggedIn();
    const other = (await (await login(email)).json()) as Tokens;
    const res = await change(tokens, PASSWORD, NEW_PASSWORD);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ password_changed: true, revoked_sessions: 1 });
    expect((await problem(await authed(other.access_token, "/api/v1/auth/me"))).code).toBe("session_revoked");
    expect((await problem(await refresh(other.refresh_token))).code).toBe("invalid_refresh_token");
    // This session's access token and refresh token both keep working.
    expect((await authed(tokens.access_token, "/api/v1/auth/me")).status).toBe(200);
    const renewed = await refresh(tokens.refresh_token);
    expect(renewed.status).toBe(200);
    const next = (await renewed.json()) as Tokens;
    expect((await authed(next.access_token, "/api/v1/auth/me")).status).toBe(200);
    expect((await login(email, NEW_PASSWORD)).status).toBe(200);
    await emailTo(email, /password was changed/);
  });

  it("refuses a weak or unchanged new password with every reason", async () => {
    const { tokens } = await loggedIn();
    const same = await change(tokens, PASSWORD, PASSWORD);
    expect(same.status).toBe(422);
    expect((await problem(same)).errors?.map((e) => e.message)).toContain("must differ from the current password");
  });
});
