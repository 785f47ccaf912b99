/**
 * Readiness of every dependency (issue 23 item 2). Isolated storage: it writes outcome counts
 * that would make every other suite's readiness degraded.
 */

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src";
import { hourOf } from "../../src/db/outcomes";
import { loggedInAdmin } from "../support/admin";
import { connectSandbox } from "../support/connections";
import { call } from "../support/http";
import { authed, outboxAtLeast, register, uniqueEmail } from "../support/identity";
import { seededSession } from "../support/seed";
import { attempt, queuedRun } from "../support/sync";

interface Ready {
  status: string;
  checks: Record<string, { status: string; latency_ms: number; error?: string; details?: Record<string, unknown> }>;
}

/**
 * GET /health/ready as the Worker answers it. Each call gets its own copy of the bindings, so the
 * isolate's reuse of its last public answer (two seconds) does not hide the state a test set up;
 * `sameEnv` asks with the very bindings given, as production's repeated probes do.
 */
async function ready(envOf: Env = env, sameEnv = false) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request("https://x.test/health/ready"), sameEnv ? envOf : { ...envOf }, ctx);
  await waitOnExecutionContext(ctx);
  return { status: res.status, body: (await res.json()) as Ready, res };
}

/** The same checks with their details, as an administrator reads them. */
async function adminHealth() {
  const { tokens } = await loggedInAdmin();
  const res = await authed(tokens.access_token, "/api/v1/admin/health");
  expect(res.status).toBe(200);
  return (await res.json()) as Ready;
}

/** A readiness answer without its timings, to compare two of them. */
const shapeOf = (body: Ready) =>
  JSON.stringify(Object.entries(body.checks).map(([name, { latency_ms: _l, ...check }]) => [name, check]));

describe("GET /health/ready", () => {
  it("reports every dependency, each with its status and latency, and calls no provider", async () => {
    const { status, body, res } = await ready();
    expect(status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(body.status).toBe("ok");
    expect(Object.keys(body.checks)).toEqual(
      expect.arrayContaining([
        "config",
        "database",
        "homes",
        "limiter",
        "sync_queue",
        "email_queue",
        "email_transport",
        "provider:sandbox",
        "provider:sandbox_gocardless",
        "provider:simplefin",
      ]),
    );
    // Schwab has no credentials here: not configured, so not checked.
    expect(body.checks["provider:schwab"]).toBeUndefined();
    for (const check of Object.values(body.checks)) {
      expect(check.status).toBe("ok");
      expect(Number.isInteger(check.latency_ms)).toBe(true);
    }
    // Anyone may ask: no counts in the public answer; an administrator reads them.
    for (const check of Object.values(body.checks)) expect(check.details).toBeUndefined();
    const full = await adminHealth();
    expect(full.checks.email_transport?.details).toMatchObject({ transport: "outbox", success_rate: null });
    expect(full.checks["provider:sandbox"]?.details).toEqual({
      succeeded: 0,
      failed: 0,
      success_rate: null,
      last_error_class: null,
      last_error_at: null,
    });
  });

  it("a provider failing its syncs is degraded (200), with its rate and last error class", async () => {
    const now = Date.now();
    await env.DB.prepare(
      "INSERT INTO outcome_counts (subject, hour, ok, failed, last_error, last_error_at) VALUES (?, ?, 1, 9, 'provider_unavailable', ?)",
    )
      .bind("provider:sandbox_alpaca", hourOf(new Date(now)), now)
      .run();
    const { status, body } = await ready();
    expect(status).toBe(200);
    expect(body.status).toBe("degraded");
    expect(body.checks["provider:sandbox_alpaca"]).toEqual({ status: "degraded", latency_ms: expect.any(Number) });
    expect((await adminHealth()).checks["provider:sandbox_alpaca"]).toMatchObject({
      status: "degraded",
      details: { succeeded: 1, failed: 9, success_rate: 0.1, last_error_class: "provider_unavailable" },
    });
    expect(body.checks["provider:sandbox"]?.status).toBe("ok");
  });

  it("a queue that refuses messages degrades; D1 failing fails (503), naming it and nothing internal", async () => {
    const refusing = { send: () => Promise.reject(new Error("queue is paused")) } as unknown as Queue;
    const queueDown = await ready({ ...env, EMAIL_QUEUE: refusing } as Env);
    expect(queueDown.status).toBe(200);
    expect(queueDown.body.checks.email_queue).toMatchObject({ status: "degraded", error: "Error" });

    const brokenDb = {
      prepare: () => ({ first: () => Promise.reject(new Error("D1_ERROR: no such database")) }),
    } as unknown as D1Database;
    const dbDown = await ready({ ...env, DB: brokenDb } as Env);
    expect(dbDown.status).toBe(503);
    expect(dbDown.body.status).toBe("fail");
    expect(dbDown.body.checks.database?.status).toBe("fail");
    expect(dbDown.body.checks.homes?.status).toBe("ok");
    expect(dbDown.body.checks.limiter?.status).toBe("ok");
    expect(JSON.stringify(dbDown.body)).not.toContain("no such database");
  });

  it("counts real outcomes: a sync and a delivered email show in the last hour", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    await attempt(await queuedRun(connection.id), 1);
    const email = uniqueEmail("ready");
    await register(email);
    await outboxAtLeast(email, 1);
    // The consumer counts right after the send that filled the outbox: look again briefly.
    await vi.waitFor(
      async () => {
        const body = await adminHealth();
        expect(Number(body.checks["provider:sandbox"]?.details?.succeeded)).toBeGreaterThanOrEqual(1);
        expect(Number(body.checks.email_transport?.details?.succeeded)).toBeGreaterThanOrEqual(1);
      },
      { timeout: 5000, interval: 100 },
    );
  });

  it("an anonymous caller cannot tell from it whether an address has an account", async () => {
    const email = uniqueEmail("oracle");
    await register(email);
    await outboxAtLeast(email, 1);
    const reset = () =>
      call("/api/v1/auth/request-password-reset", { method: "POST", json: { email } }).then((r) => r.status);
    const before = shapeOf((await ready()).body);
    expect(await reset()).toBe(202);
    await outboxAtLeast(email, 2);
    // The email was sent (an administrator sees the count move); the public answer did not change.
    expect(shapeOf((await ready()).body)).toBe(before);
  });

  it("a user's own revoked grants do not degrade the provider", async () => {
    const { tokens } = await seededSession();
    const before = (await adminHealth()).checks["provider:sandbox"]?.details;
    for (let i = 0; i < 3; i++) {
      const revoked = await connectSandbox(tokens.access_token, { scenario: "revoked" });
      await attempt(await queuedRun(revoked.id), 1);
    }
    const after = await adminHealth();
    expect(after.checks["provider:sandbox"]?.status).toBe("ok");
    expect(after.checks["provider:sandbox"]?.details?.failed).toBe(before?.failed);
  });

  it("a flood of probes: one isolate answers them from its last look for two seconds", async () => {
    const bindings = { ...env } as Env;
    const first = await ready(bindings, true);
    expect(first.body.checks["provider:sandbox_simplefin"]?.status).toBe("ok");
    // Trouble arrives; within the two seconds the same bindings still get the last look.
    await env.DB.prepare(
      "INSERT INTO outcome_counts (subject, hour, ok, failed, last_error, last_error_at) VALUES (?, ?, 0, 9, 'provider_unavailable', ?)",
    )
      .bind("provider:sandbox_simplefin", hourOf(new Date()), Date.now())
      .run();
    expect(shapeOf((await ready(bindings, true)).body)).toBe(shapeOf(first.body));
    // A fresh look (another isolate, or two seconds on) sees it.
    expect((await ready()).body.checks["provider:sandbox_simplefin"]?.status).toBe("degraded");
  });
});
