import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testClock } from "../../src/clock";
import { createKeyring } from "../../src/crypto/keyring";
import { sha256Hex } from "../../src/crypto/random";
import { base32Decode, totpAt, totpStep } from "../../src/crypto/totp";
import { createDb } from "../../src/db/client";
import { createLogger } from "../../src/logger";
import { rewrapCredentials } from "../../src/services/connections/rewrap";
import { secretContext } from "../../src/services/identity/mfa";
import { type CallInit, call, patientEnv, problem } from "../support/http";
import { authed, loggedIn, login, PASSWORD, type Tokens } from "../support/identity";

// TOTP codes are computed here from the secret the API returns, exactly as an authenticator app
// would. The Worker's clock is pinned to the middle of a 30-second step for each test (the test
// clock, src/clock.ts), so "now" is the same step for the test and the Worker, without waiting.

const STEP_MS = 30_000;

let pinned = 0;
beforeEach(() => {
  pinned = (Math.floor(Date.now() / STEP_MS) + 1) * STEP_MS + STEP_MS / 2;
  testClock.pin(pinned);
});
afterEach(() => testClock.reset());

const codeAt = async (secret: string, offset = 0) =>
  totpAt(base32Decode(secret) as Uint8Array, totpStep(pinned) + offset);

/** A code no step within ±1 accepts. */
async function wrongCode(secret: string): Promise<string> {
  const near = await Promise.all([-1, 0, 1].map((d) => codeAt(secret, d)));
  for (let n = 0; ; n++) {
    const c = String((Number(near[0]) + 1 + n) % 1_000_000).padStart(6, "0");
    if (!near.includes(c)) return c;
  }
}

const setup = (token: string, password = PASSWORD) =>
  authed(token, "/api/v1/auth/mfa/totp/setup", { method: "POST", json: { password } });
const enable = (token: string, code: string) =>
  authed(token, "/api/v1/auth/mfa/totp/enable", { method: "POST", json: { code } });
const verify = (json: Record<string, unknown>, init: CallInit = {}) =>
  call("/api/v1/auth/mfa/verify", { ...init, method: "POST", json });
const disable = (token: string, json: Record<string, unknown>) =>
  authed(token, "/api/v1/auth/mfa/disable", { method: "POST", json });

interface MfaRequired {
  mfa_required: true;
  mfa_token: string;
  methods: string[];
}

async function mfaLogin(email: string, init: CallInit = {}): Promise<MfaRequired> {
  const res = await call("/api/v1/auth/login", { ...init, method: "POST", json: { email, password: PASSWORD } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as MfaRequired;
  expect(body).toEqual({ mfa_required: true, mfa_token: expect.any(String), methods: ["totp", "backup_code"] });
  return body;
}

const mfaLoginAnswer = (email: string, init: CallInit) =>
  call("/api/v1/auth/login", { ...init, method: "POST", json: { email, password: PASSWORD } });

const userRow = (email: string) =>
  env.DB.prepare("SELECT * FROM users WHERE email = ?").bind(email).first<Record<string, unknown>>();

/** A logged-in user with MFA on; enabled with the code of the previous step (drift −1). */
async function mfaUser(tag = "mfa") {
  const { email, tokens } = await loggedIn(tag);
  const res = await setup(tokens.access_token);
  expect(res.status).toBe(200);
  const { secret } = (await res.json()) as { secret: string };
  const on = await enable(tokens.access_token, await codeAt(secret, -1));
  expect(on.status).toBe(200);
  const { backup_codes } = (await on.json()) as { backup_codes: string[] };
  return { email, tokens, secret, backupCodes: backup_codes };
}

describe("MFA (TOTP) journey", () => {
  it("setup → enable → login asks for a code → verify gives working tokens", async () => {
    const { email, tokens } = await loggedIn("mfa-journey");
    const me = async (t: string) => (await (await authed(t, "/api/v1/auth/me")).json()) as { mfa_enabled: boolean };
    expect((await me(tokens.access_token)).mfa_enabled).toBe(false);

    const res = await setup(tokens.access_token);
    expect(res.status).toBe(200);
    const { secret, otpauth_url } = (await res.json()) as { secret: string; otpauth_url: string };
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(secret)?.byteLength).toBe(20);
    const url = new URL(otpauth_url);
    expect(url.protocol).toBe("otpauth:");
    expect(url.searchParams.get("secret")).toBe(secret);
    expect(url.searchParams.get("issuer")).toBe("Ledgerlink");
    expect(decodeURIComponent(url.pathname)).toContain(email);

    // Pending until confirmed: login still answers tokens, and the secret is only ciphertext.
    let row = await userRow(email);
    expect(row?.mfa_enabled).toBe(0);
    expect(row?.mfa_totp_secret_enc).toMatch(/^v1\.[A-Za-z0-9_-]+\./);
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(JSON.stringify(row)).not.toContain(secret.toLowerCase());
    expect((await (await login(email)).json()) as object).toHaveProperty("access_token");

    const bad = await enable(tokens.access_token, await wrongCode(secret));
    expect(bad.status).toBe(400);
    expect((await problem(bad)).code).toBe("invalid_mfa_code");
    const on = await enable(tokens.access_token, await codeAt(secret));
    expect(on.status).toBe(200);
    const { backup_codes } = (await on.json()) as { backup_codes: string[] };
    expect(backup_codes).toHaveLength(10);
    expect(new Set(backup_codes).size).toBe(10);
    for (const c of backup_codes) expect(c).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
    expect((await me(tokens.access_token)).mfa_enabled).toBe(true);

    // Backup codes are stored only as SHA-256; the secret is never in plaintext anywhere.
    row = await userRow(email);
    const stored = await env.DB.prepare("SELECT * FROM mfa_backup_codes WHERE user_id = ?").bind(row?.id).all();
    expect(stored.results).toHaveLength(10);
    const dump = JSON.stringify([row, stored.results]);
    for (const c of backup_codes) {
      expect(dump).not.toContain(c);
      expect(dump).not.toContain(c.replace("-", ""));
    }
    // Keyed (HMAC under a server key), so the table alone cannot be searched for 50-bit codes.
    for (const r of stored.results) expect(r.code_hash).toMatch(/^h1\.[A-Za-z0-9_-]{43}$/);
    for (const c of backup_codes) {
      const unkeyed = await sha256Hex(`mfa_backup:${c.replace("-", "")}`);
      expect(stored.results.map((r) => r.code_hash)).not.toContain(unkeyed);
    }
    expect(dump).not.toContain(secret);

    const challenge = await mfaLogin(email);
    // The code that enabled MFA has been used: its step is refused (replay).
    const replay = await verify({ mfa_token: challenge.mfa_token, code: await codeAt(secret) });
    expect(replay.status).toBe(401);
    expect((await problem(replay)).code).toBe("invalid_mfa_code");

    const ok = await verify({ mfa_token: challenge.mfa_token, code: await codeAt(secret, 1) });
    expect(ok.status).toBe(200);
    const fresh = (await ok.json()) as Tokens & { user: { mfa_enabled: boolean } };
    expect(fresh).toMatchObject({ token_type: "Bearer", user: { email, mfa_enabled: true } });
    expect((await authed(fresh.access_token, "/api/v1/auth/me")).status).toBe(200);
    expect(
      (await call("/api/v1/auth/refresh", { method: "POST", json: { refresh_token: fresh.refresh_token } })).status,
    ).toBe(200);

    // The mfa_token is single-use.
    const again = await verify({ mfa_token: challenge.mfa_token, code: await codeAt(secret) });
    expect(again.status).toBe(401);
    expect((await problem(again)).code).toBe("invalid_mfa_token");

    const actions = await env.DB.prepare(
      "SELECT action, outcome FROM audit_events WHERE user_id = ? AND action LIKE 'auth.mfa%' ORDER BY occurred_at",
    )
      .bind(row?.id)
      .all<{ action: string; outcome: string }>();
    expect(actions.results).toEqual(
      expect.arrayContaining([
        { action: "auth.mfa_setup", outcome: "success" },
        { action: "auth.mfa_enabled", outcome: "failure" },
        { action: "auth.mfa_enabled", outcome: "success" },
        { action: "auth.mfa_challenge", outcome: "success" },
        { action: "auth.mfa_verified", outcome: "failure" },
        { action: "auth.mfa_verified", outcome: "success" },
      ]),
    );
  });

  it("accepts ±1 step of clock drift and refuses ±2", async () => {
    const { email, secret } = await mfaUser("mfa-drift"); // enabled with step −1: drift −1 accepted
    const { mfa_token } = await mfaLogin(email);
    for (const offset of [-2, 2]) {
      const res = await verify({ mfa_token, code: await codeAt(secret, offset) });
      expect(res.status).toBe(401);
      expect((await problem(res)).code).toBe("invalid_mfa_code");
    }
    expect((await verify({ mfa_token, code: await codeAt(secret, 1) })).status).toBe(200);
  });

  it("refuses a code of the same step twice, across logins", async () => {
    const { email, secret } = await mfaUser("mfa-reuse");
    const code = await codeAt(secret);
    expect((await verify({ mfa_token: (await mfaLogin(email)).mfa_token, code })).status).toBe(200);
    const second = await verify({ mfa_token: (await mfaLogin(email)).mfa_token, code });
    expect(second.status).toBe(401);
    expect((await problem(second)).code).toBe("invalid_mfa_code");
    // An earlier step than the last used is refused too.
    expect(
      (await verify({ mfa_token: (await mfaLogin(email)).mfa_token, code: await codeAt(secret, -1) })).status,
    ).toBe(401);
  });

  it("a backup code works once, in any case and with spaces", async () => {
    const { email, backupCodes } = await mfaUser("mfa-backup");
    const [first, second] = backupCodes as [string, string];
    const ok = await verify({ mfa_token: (await mfaLogin(email)).mfa_token, backup_code: first });
    expect(ok.status).toBe(200);
    const reused = await verify({ mfa_token: (await mfaLogin(email)).mfa_token, backup_code: first });
    expect(reused.status).toBe(401);
    expect((await problem(reused)).code).toBe("invalid_mfa_code");
    const loose = ` ${second.toUpperCase().replace("-", " ")} `;
    expect((await verify({ mfa_token: (await mfaLogin(email)).mfa_token, backup_code: loose })).status).toBe(200);
    const used = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_events WHERE action = 'auth.mfa_backup_code_used' AND user_id = (SELECT id FROM users WHERE email = ?)",
    )
      .bind(email)
      .first<number>("n");
    expect(used).toBe(2);
    const left = await env.DB.prepare(
      "SELECT count(*) AS n FROM mfa_backup_codes WHERE used_at IS NULL AND user_id = (SELECT id FROM users WHERE email = ?)",
    )
      .bind(email)
      .first<number>("n");
    expect(left).toBe(8);
  });

  it("an mfa_token expires after 5 minutes and unknown tokens are refused", async () => {
    const { email, secret } = await mfaUser("mfa-expiry");
    const { mfa_token } = await mfaLogin(email);
    const row = await env.DB.prepare("SELECT created_at, expires_at FROM mfa_challenges WHERE token_hash = ?")
      .bind(await sha256Hex(mfa_token))
      .first<{ created_at: number; expires_at: number }>();
    expect((row?.expires_at ?? 0) - (row?.created_at ?? 0)).toBe(300_000);
    // Five minutes later (ten steps on) the token is gone.
    testClock.advance(300_000);
    const expired = await verify({ mfa_token, code: await codeAt(secret, 10) });
    expect(expired.status).toBe(401);
    expect((await problem(expired)).code).toBe("invalid_mfa_token");
    const unknown = await verify({ mfa_token: "x".repeat(43), code: await codeAt(secret, 10) });
    expect(unknown.status).toBe(401);
    expect((await problem(unknown)).code).toBe("invalid_mfa_token");
    // Neither spent the code: it still completes a fresh login.
    const fresh = await mfaLogin(email);
    expect((await verify({ mfa_token: fresh.mfa_token, code: await codeAt(secret, 10) })).status).toBe(200);
  });

  it("wrong codes count toward the client's lockout; a right password in between does not reset the count", async () => {
    const { email, secret } = await mfaUser("mfa-lock");
    const wrong = await wrongCode(secret);
    const client = { headers: { "CF-Connecting-IP": "198.51.100.77" }, env: patientEnv };
    let challenge = await mfaLogin(email, client);
    for (let i = 1; i <= 10; i++) {
      if (i === 6) challenge = await mfaLogin(email, client);
      const res = await verify({ mfa_token: challenge.mfa_token, code: wrong }, client);
      expect(res.status, `attempt ${i}`).toBe(i < 10 ? 401 : 423);
      expect((await problem(res)).code).toBe(i < 10 ? "invalid_mfa_code" : "account_locked");
    }
    // The second challenge took its fifth wrong code: it is dead, even for the right one.
    const right = await verify({ mfa_token: challenge.mfa_token, code: await codeAt(secret) }, client);
    expect((await problem(right)).code).toBe("invalid_mfa_token");
    // And the client is locked out of a new login.
    expect((await mfaLoginAnswer(email, client)).status).toBe(423);
    // Another client is not locked out.
    expect((await login(email)).status).toBe(200);
    const lock = await env.DB.prepare(
      "SELECT details FROM audit_events WHERE action = 'auth.lockout' AND user_id = (SELECT id FROM users WHERE email = ?)",
    )
      .bind(email)
      .all();
    expect(lock.results).toHaveLength(1);
  });

  it("disable needs the password and a current code; sessions stay; login gives tokens again", async () => {
    const { email, tokens, secret } = await mfaUser("mfa-off");
    const token = tokens.access_token;
    const badPassword = await disable(token, { password: "Wrong-Password-1!", code: await codeAt(secret) });
    expect(badPassword.status).toBe(401);
    expect((await problem(badPassword)).code).toBe("invalid_credentials");
    const badCode = await disable(token, { password: PASSWORD, code: await wrongCode(secret) });
    expect(badCode.status).toBe(400);
    expect((await problem(badCode)).code).toBe("invalid_mfa_code");
    expect((await disable(token, { password: PASSWORD, code: await codeAt(secret) })).status).toBe(204);

    const row = await userRow(email);
    expect(row).toMatchObject({ mfa_enabled: 0, mfa_totp_secret_enc: null, mfa_totp_last_step: null });
    const codes = await env.DB.prepare("SELECT count(*) AS n FROM mfa_backup_codes WHERE user_id = ?")
      .bind(row?.id)
      .first<number>("n");
    expect(codes).toBe(0);
    const me = await authed(token, "/api/v1/auth/me");
    expect(me.status).toBe(200);
    expect(((await me.json()) as { mfa_enabled: boolean }).mfa_enabled).toBe(false);
    expect((await (await login(email)).json()) as object).toHaveProperty("access_token");

    const off = await disable(token, { password: PASSWORD, code: await codeAt(secret, 1) });
    expect(off.status).toBe(409);
    expect((await problem(off)).code).toBe("mfa_not_enabled");
    const events = await env.DB.prepare(
      "SELECT outcome FROM audit_events WHERE action = 'auth.mfa_disabled' AND user_id = ? ORDER BY occurred_at",
    )
      .bind(row?.id)
      .all<{ outcome: string }>();
    expect(events.results.map((e) => e.outcome)).toEqual(["failure", "failure", "success"]);
  });

  it("disable accepts a backup code instead of a TOTP code", async () => {
    const { tokens, backupCodes } = await mfaUser("mfa-off-backup");
    const res = await disable(tokens.access_token, { password: PASSWORD, backup_code: backupCodes[3] });
    expect(res.status).toBe(204);
  });

  it("answers bad input and wrong states with 4xx problems", async () => {
    const { tokens, secret } = await mfaUser("mfa-input");
    const t = tokens.access_token;
    const cases: [Promise<Response>, number, string][] = [
      [verify({}), 422, "validation_failed"],
      [verify({ mfa_token: "short", code: "123456" }), 422, "validation_failed"],
      [verify({ mfa_token: "x".repeat(43) }), 422, "validation_failed"],
      [verify({ mfa_token: "x".repeat(43), code: "12345a" }), 422, "validation_failed"],
      [verify({ mfa_token: "x".repeat(43), code: "123456", backup_code: "abcde-fghij" }), 422, "validation_failed"],
      [verify({ mfa_token: "x".repeat(43), backup_code: "x".repeat(100) }), 422, "validation_failed"],
      [verify({ mfa_token: 42, code: 123456 }), 422, "validation_failed"],
      [
        call("/api/v1/auth/mfa/verify", { method: "POST", body: "{", headers: { "Content-Type": "application/json" } }),
        400,
        "malformed_json",
      ],
      [setup(t), 409, "mfa_already_enabled"],
      [enable(t, await codeAt(secret)), 409, "mfa_already_enabled"],
      [enable(t, "12345"), 422, "validation_failed"],
      [disable(t, { password: PASSWORD }), 422, "validation_failed"],
      [call("/api/v1/auth/mfa/totp/setup", { method: "POST", json: { password: PASSWORD } }), 401, "unauthenticated"],
      [authed(t, "/api/v1/auth/mfa/totp/setup", { method: "POST" }), 422, "validation_failed"],
      [call("/api/v1/auth/mfa/totp/enable", { method: "POST", json: { code: "123456" } }), 401, "unauthenticated"],
      [
        call("/api/v1/auth/mfa/disable", { method: "POST", json: { password: PASSWORD, code: "123456" } }),
        401,
        "unauthenticated",
      ],
    ];
    for (const [pending, status, code] of cases) {
      const res = await pending;
      expect(res.status).toBe(status);
      expect((await problem(res)).code).toBe(code);
    }
    const fresh = await loggedIn("mfa-nosetup");
    const early = await enable(fresh.tokens.access_token, "123456");
    expect(early.status).toBe(409);
    expect((await problem(early)).code).toBe("mfa_setup_required");
  });

  // Last in the file: it moves every stored secret to a key the Worker under test does not have.
  it("key rotation re-wraps TOTP secrets under the new key", async () => {
    const { email, secret } = await mfaUser("mfa-rewrap");
    const raw = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const keyring = await createKeyring(`knew:${raw},${env.ENCRYPTION_KEYS}`);
    const report = await rewrapCredentials(createDb(env.DB), keyring, createLogger("silent"), new Date());
    expect(report.mfa_secrets).toBeGreaterThanOrEqual(1);
    expect(report.failed).toBe(0);
    const row = await userRow(email);
    expect(row?.mfa_totp_secret_enc).toMatch(/^v1\.knew\./);
    expect(await keyring.decrypt(row?.mfa_totp_secret_enc as string, secretContext(row?.id as string))).toBe(secret);
    const left = await env.DB.prepare(
      "SELECT count(*) AS n FROM users WHERE mfa_totp_secret_enc IS NOT NULL AND mfa_totp_secret_enc NOT LIKE 'v1.knew.%'",
    ).first<number>("n");
    expect(left).toBe(0);
  });
});
