import { describe, expect, inject, it } from "vitest";
import { waitForToken } from "./support";

const base = inject("baseUrl");
const email = `e2e.${Date.now().toString(36)}@example.com`;
const PASSWORD = "Tr1cky-Bison-42!";
const NEW_PASSWORD = "An0ther-Quiet-Heron?";

// Each call comes from its own client IP, so the journey measures behaviour, not per-IP limits.
let ip = 0;
const post = (path: string, json: unknown, token?: string) =>
  fetch(base + path, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "CF-Connecting-IP": `192.0.2.${++ip}`,
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(json),
  });
const get = (path: string, token?: string) =>
  fetch(base + path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });

const tokenFor = (subject: RegExp, to = email): Promise<string> => waitForToken(base, to, subject);

interface Tokens {
  access_token: string;
  refresh_token: string;
  session_id: string;
}

// One journey over real HTTP against `wrangler dev`; tests in a file run in order.
describe("identity journey over HTTP", () => {
  let tokens: Tokens;

  it("registers, reads the outbox, verifies, logs in", async () => {
    expect((await post("/api/v1/auth/register", { email, password: PASSWORD, name: "E2E" })).status).toBe(202);
    expect((await post("/api/v1/auth/login", { email, password: PASSWORD })).status).toBe(403);
    const verified = await post("/api/v1/auth/verify-email", { token: await tokenFor(/confirm your email/i) });
    expect(verified.status).toBe(200);
    const res = await post("/api/v1/auth/login", { email, password: PASSWORD });
    expect(res.status).toBe(200);
    tokens = (await res.json()) as Tokens;
    const me = await get("/api/v1/auth/me", tokens.access_token);
    expect(await me.json()).toMatchObject({ email, email_verified: true });
  });

  it("refreshes, detects reuse after the grace window and revokes the session", async () => {
    const next = (await (await post("/api/v1/auth/refresh", { refresh_token: tokens.refresh_token })).json()) as Tokens;
    expect(next.session_id).toBe(tokens.session_id);
    // The e2e server runs with REFRESH_REUSE_GRACE_SECONDS=1.
    await new Promise((r) => setTimeout(r, 1500));
    const reuse = await post("/api/v1/auth/refresh", { refresh_token: tokens.refresh_token });
    expect(reuse.status).toBe(401);
    expect(((await reuse.json()) as { code: string }).code).toBe("refresh_token_reused");
    expect((await get("/api/v1/auth/me", next.access_token)).status).toBe(401);
  });

  it("logs out: the access token stops working on the next request", async () => {
    tokens = (await (await post("/api/v1/auth/login", { email, password: PASSWORD })).json()) as Tokens;
    expect((await post("/api/v1/auth/logout", {}, tokens.access_token)).status).toBe(204);
    const me = await get("/api/v1/auth/me", tokens.access_token);
    expect(((await me.json()) as { code: string }).code).toBe("session_revoked");
  });

  it("resets the password by email, then changes it", async () => {
    expect((await post("/api/v1/auth/request-password-reset", { email })).status).toBe(202);
    const token = await tokenFor(/reset your password/i);
    expect((await post("/api/v1/auth/reset-password", { token, new_password: NEW_PASSWORD })).status).toBe(200);
    tokens = (await (await post("/api/v1/auth/login", { email, password: NEW_PASSWORD })).json()) as Tokens;
    const changed = await post(
      "/api/v1/auth/change-password",
      { current_password: NEW_PASSWORD, new_password: PASSWORD },
      tokens.access_token,
    );
    expect(await changed.json()).toEqual({ password_changed: true, revoked_sessions: 0 });
    expect((await post("/api/v1/auth/login", { email, password: PASSWORD })).status).toBe(200);
  });

  it("lists the security events of the journey", async () => {
    const fresh = (await (await post("/api/v1/auth/login", { email, password: PASSWORD })).json()) as Tokens;
    const res = await get("/api/v1/auth/security-events?limit=50", fresh.access_token);
    const { events } = (await res.json()) as { events: { action: string }[] };
    const actions = new Set(events.map((e) => e.action));
    for (const a of [
      "auth.register",
      "auth.email_verified",
      "auth.login",
      "auth.refresh",
      "auth.refresh_reuse",
      "auth.logout",
      "auth.password_reset",
      "auth.password_changed",
    ]) {
      expect(actions.has(a), a).toBe(true);
    }
  });

  it("refuses a forged token", async () => {
    const forged = `${btoa('{"alg":"none"}')}.${btoa('{"sub":"x"}')}.`;
    const res = await get("/api/v1/auth/me", forged);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
  });

  it("publishes JWKS and fires the hourly cron", async () => {
    const jwks = (await (await get("/.well-known/jwks.json")).json()) as { keys: object[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    expect((await get("/__scheduled?cron=0+*+*+*+*")).status).toBe(200);
  });
});
