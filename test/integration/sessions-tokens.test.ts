import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/crypto/random";
import { problem } from "../support/http";
import { authed, loggedIn, login, PASSWORD, refresh, type Tokens } from "../support/identity";

const age = (sessionId: string, column: "rotated_at" | "expires_at", msAgo: number) =>
  env.DB.prepare(
    column === "rotated_at"
      ? "UPDATE refresh_tokens SET rotated_at = ? WHERE session_id = ? AND rotated_at IS NOT NULL"
      : "UPDATE sessions SET expires_at = ? WHERE id = ?",
  )
    .bind(Date.now() - msAgo, sessionId)
    .run();

describe("refresh tokens", () => {
  it("rotate on every use, keep the session, and are stored only as SHA-256", async () => {
    const { tokens } = await loggedIn();
    const res = await refresh(tokens.refresh_token);
    expect(res.status).toBe(200);
    const next = (await res.json()) as Tokens;
    expect(next.session_id).toBe(tokens.session_id);
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect(next.access_token).not.toBe(tokens.access_token);
    const rows = await env.DB.prepare("SELECT token_hash FROM refresh_tokens WHERE session_id = ?")
      .bind(tokens.session_id)
      .all<{ token_hash: string }>();
    const hashes = rows.results.map((r) => r.token_hash).sort();
    expect(hashes).toEqual([await sha256Hex(tokens.refresh_token), await sha256Hex(next.refresh_token)].sort());
    expect(JSON.stringify(rows.results)).not.toContain(tokens.refresh_token);
    expect((await authed(next.access_token, "/api/v1/auth/me")).status).toBe(200);
  });

  it("concurrent refreshes inside the grace window all receive the same successor", async () => {
    const { tokens } = await loggedIn();
    const answers = await Promise.all(Array.from({ length: 4 }, () => refresh(tokens.refresh_token)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as Tokens[];
    expect(new Set(bodies.map((b) => b.refresh_token)).size).toBe(1);
    expect((await refresh(bodies[0]?.refresh_token as string)).status).toBe(200);
  });

  it("an already-rotated token presented after the grace window revokes the whole session", async () => {
    const { tokens } = await loggedIn();
    const next = (await (await refresh(tokens.refresh_token)).json()) as Tokens;
    await age(tokens.session_id, "rotated_at", 11_000);
    const reuse = await refresh(tokens.refresh_token);
    expect(reuse.status).toBe(401);
    expect((await problem(reuse)).code).toBe("refresh_token_reused");
    // The thief's and the victim's tokens are both dead now.
    expect((await problem(await refresh(next.refresh_token))).code).toBe("invalid_refresh_token");
    expect((await problem(await authed(next.access_token, "/api/v1/auth/me"))).code).toBe("session_revoked");
    const audit = await env.DB.prepare(
      "SELECT outcome FROM audit_events WHERE action = 'auth.refresh_reuse' AND session_id = ?",
    )
      .bind(tokens.session_id)
      .first("outcome");
    expect(audit).toBe("denied");
  });

  it("expire absolutely with the session (30 days), however often refreshed", async () => {
    const { tokens } = await loggedIn();
    await age(tokens.session_id, "expires_at", 1);
    expect((await problem(await refresh(tokens.refresh_token))).code).toBe("invalid_refresh_token");
  });

  it("unknown tokens are refused", async () => {
    const res = await refresh("x".repeat(43));
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe("invalid_refresh_token");
  });
});

describe("logout", () => {
  it("revokes the session: access and refresh tokens fail at once, other sessions live on", async () => {
    const { email, tokens } = await loggedIn();
    const other = (await (await login(email, PASSWORD)).json()) as Tokens;
    const res = await authed(tokens.access_token, "/api/v1/auth/logout", { method: "POST" });
    expect(res.status).toBe(204);
    const me = await authed(tokens.access_token, "/api/v1/auth/me");
    expect(me.status).toBe(401);
    expect((await problem(me)).code).toBe("session_revoked");
    expect((await problem(await refresh(tokens.refresh_token))).code).toBe("invalid_refresh_token");
    expect((await authed(other.access_token, "/api/v1/auth/me")).status).toBe(200);
  });
});

describe("JWKS", () => {
  it("publishes the public verification keys only", async () => {
    const res = await authed("", "/.well-known/jwks.json");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { keys: Record<string, string>[] };
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(body.keys[0]).not.toHaveProperty("d");
  });
});
