import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/crypto/random";
import { call, problem } from "../support/http";
import { login, outboxAtLeast, PASSWORD, register, tokenFromEmail, uniqueEmail } from "../support/identity";

const verify = (token: string) => call("/api/v1/auth/verify-email", { method: "POST", json: { token } });

describe("register", () => {
  it("answers 202 and emails a verification link with token=", async () => {
    const email = uniqueEmail();
    const res = await register(email);
    expect(res.status).toBe(202);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const [msg] = await outboxAtLeast(email, 1);
    expect(msg?.subject).toMatch(/confirm your email/i);
    expect(msg?.text).toMatch(/token=[A-Za-z0-9_-]{43}/);
  });

  it("answers identically for a taken address and tells its owner instead (no enumeration)", async () => {
    const email = uniqueEmail();
    const first = await register(email);
    const second = await register(email.toUpperCase(), "Different-Pass-77!", "Mallory");
    expect(second.status).toBe(first.status);
    expect(await second.json()).toEqual(await first.json());
    const subjects = (await outboxAtLeast(email, 2)).map((m) => m.subject);
    expect(subjects.sort()).toEqual(["Confirm your email address", "Someone tried to sign up with your email"]);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE email = ?").bind(email).first("n");
    expect(count).toBe(1);
  });

  it("normalises the address (trim, lower-case) before storing it", async () => {
    const email = uniqueEmail();
    expect((await register(`  ${email.toUpperCase()}  `)).status).toBe(202);
    const row = await env.DB.prepare("SELECT email FROM users WHERE email = ?").bind(email).first("email");
    expect(row).toBe(email);
  });

  it("422 weak_password lists every reason", async () => {
    const res = await register(uniqueEmail(), "password");
    expect(res.status).toBe(422);
    const p = await problem(res);
    expect(p.code).toBe("weak_password");
    expect(p.errors?.map((e) => e.message)).toEqual([
      "must contain an upper-case letter",
      "must contain a digit",
      "must contain a symbol",
    ]);
  });

  it("422 validation_failed for a bad address or missing name", async () => {
    const res = await call("/api/v1/auth/register", {
      method: "POST",
      json: { email: "not-an-email", password: PASSWORD },
    });
    expect(res.status).toBe(422);
    expect((await problem(res)).errors?.map((e) => e.path).sort()).toEqual(["email", "name"]);
  });

  it("escapes user-supplied values in the email HTML", async () => {
    const email = uniqueEmail();
    await register(email, PASSWORD, '<img src=x onerror="alert(1)">');
    await verify(await tokenFromEmail(email, /confirm/i));
    // A verified account's own name is used in later emails, escaped.
    await register(email);
    const msg = (await outboxAtLeast(email, 2)).find((m) => /tried to sign up/.test(m.subject));
    expect(msg?.html).not.toContain("<img");
    expect(msg?.html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });

  it("stores the verification token only as SHA-256", async () => {
    const email = uniqueEmail();
    await register(email);
    const token = await tokenFromEmail(email, /confirm/i);
    const rows = await env.DB.prepare("SELECT token_hash FROM email_tokens").all<{ token_hash: string }>();
    for (const r of rows.results) expect(r.token_hash).not.toContain(token);
    expect(rows.results.some((r) => /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
  });
});

describe("verify-email", () => {
  it("is required before login, which says so only after a correct password", async () => {
    const email = uniqueEmail();
    await register(email);
    const wrong = await login(email, "Wrong-Password-1!");
    expect((await problem(wrong)).code).toBe("invalid_credentials");
    const right = await login(email);
    expect(right.status).toBe(403);
    expect((await problem(right)).code).toBe("email_not_verified");
  });

  it("verifies once; the token is single use", async () => {
    const email = uniqueEmail();
    await register(email);
    const token = await tokenFromEmail(email, /confirm/i);
    const ok = await verify(token);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ email_verified: true });
    const again = await verify(token);
    expect(again.status).toBe(400);
    expect((await problem(again)).code).toBe("invalid_token");
    expect((await login(email)).status).toBe(200);
  });

  it("refuses unknown and expired tokens", async () => {
    expect((await problem(await verify("A".repeat(43)))).code).toBe("invalid_token");
    const email = uniqueEmail();
    await register(email);
    const token = await tokenFromEmail(email, /confirm/i);
    await env.DB.prepare(
      "UPDATE email_tokens SET expires_at = ? WHERE user_id = (SELECT id FROM users WHERE email = ?)",
    )
      .bind(Date.now() - 1000, email)
      .run();
    expect((await problem(await verify(token))).code).toBe("invalid_token");
  });

  it("expires verification links after 24 hours", async () => {
    const email = uniqueEmail();
    await register(email);
    const row = await env.DB.prepare(
      "SELECT created_at, expires_at FROM email_tokens WHERE user_id = (SELECT id FROM users WHERE email = ?)",
    )
      .bind(email)
      .first<{ created_at: number; expires_at: number }>();
    expect((row?.expires_at ?? 0) - (row?.created_at ?? 0)).toBe(86_400_000);
  });
});

describe("resend-verification", () => {
  it("answers 202 for unknown, unverified and verified addresses alike", async () => {
    const unverified = uniqueEmail();
    await register(unverified);
    // The first link is in the outbox before the second is asked for: two emails the queue hands
    // over in one batch are stored in the same instant, in either order, and the outbox could not
    // tell which link is the newer.
    await outboxAtLeast(unverified, 1);
    const answers = await Promise.all(
      [uniqueEmail("nobody"), unverified].map((email) =>
        call("/api/v1/auth/resend-verification", { method: "POST", json: { email } }),
      ),
    );
    const bodies = await Promise.all(answers.map((r) => r.json()));
    expect(answers.map((r) => r.status)).toEqual([202, 202]);
    expect(bodies[0]).toEqual(bodies[1]);
    const mails = await outboxAtLeast(unverified, 2);
    expect(mails).toHaveLength(2);
    // The newer link supersedes the older one. The queue may deliver the two in either order,
    // so which is newer is read from D1: the superseded token is marked used.
    const links = mails.map((m) => /token=([A-Za-z0-9_-]+)/.exec(m.text)?.[1] as string);
    const live = await Promise.all(
      links.map(async (t) => {
        const row = await env.DB.prepare("SELECT used_at FROM email_tokens WHERE token_hash = ?")
          .bind(await sha256Hex(t))
          .first<{ used_at: number | null }>();
        return row !== null && row.used_at === null;
      }),
    );
    expect(live.filter(Boolean)).toHaveLength(1);
    const newer = links[live.indexOf(true)] as string;
    const older = links[live.indexOf(false)] as string;
    expect((await verify(older)).status).toBe(400);
    expect((await verify(newer)).status).toBe(200);
  });
});
