import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newRun } from "../../src/services/sync/runs";
import { auditFor, connectSandbox } from "../support/connections";
import { homeOf } from "../support/home";
import { problem } from "../support/http";
import { authed } from "../support/identity";
import { seededSession } from "../support/seed";
import { attempt, connectionRow, dataCounts, dataSnapshot, envWith, queuedRun, runsOf } from "../support/sync";

// Each sandbox scenario, one attempt at a time through the Worker's real queue() handler (so
// retries and delays are observed exactly), against real D1. vitest.config.ts sets the backoff
// to base 1 s / cap 2 s and SYNC_MAX_ATTEMPTS stays 5.
const HOUR = 3_600_000;

const runOf = async (connectionId: string, runId: string) =>
  (await runsOf(connectionId)).find((r) => r.id === runId) as Awaited<ReturnType<typeof runsOf>>[number];

async function syncedConnection(body: Record<string, unknown> = {}) {
  const { tokens } = await seededSession();
  const connection = await connectSandbox(tokens.access_token, body);
  return { token: tokens.access_token, userId: tokens.user.id, id: connection.id };
}

describe("sync scenarios", () => {
  it("default: one attempt, data complete, connection active and scheduled", async () => {
    const c = await syncedConnection();
    const message = await queuedRun(c.id);
    expect(await attempt(message, 1)).toEqual({ action: "ack" });
    const run = await runOf(c.id, message.run_id);
    expect(run).toMatchObject({ status: "succeeded", attempts: 1, error_code: null });
    expect(JSON.parse(run.stats ?? "{}")).toMatchObject({
      accounts_added: 2,
      holdings_upserted: 7,
      transactions_added: 200,
      transactions_fetched: 200,
    });
    expect(await dataCounts(c.id)).toEqual({ accounts: 2, holdings: 7, transactions: 200 });
    const row = await connectionRow(c.id);
    expect(row).toMatchObject({ status: "active", consecutive_failures: 0, sync_lock_owner: null });
    // Next sync: the 4-hour interval, spread ±10%.
    const next = (row?.next_sync_at ?? 0) - Date.now();
    expect(next).toBeGreaterThan(3.5 * HOUR);
    expect(next).toBeLessThan(4.5 * HOUR);
  });

  it("a redelivered message of a finished run is acknowledged and changes nothing", async () => {
    const c = await syncedConnection();
    const message = await queuedRun(c.id);
    await attempt(message, 1);
    const before = await dataSnapshot(c.id);
    expect(await attempt(message, 1)).toEqual({ action: "ack" });
    expect(await dataSnapshot(c.id)).toBe(before);
    expect(await runsOf(c.id)).toHaveLength(1);
  });

  it("re-syncing unchanged data writes no rows, incrementally or over the whole history", async () => {
    const c = await syncedConnection({ login: "resync-check" });
    await attempt(await queuedRun(c.id), 1);
    const before = await dataSnapshot(c.id);
    const again = await queuedRun(c.id);
    await attempt(again, 1);
    const stats = JSON.parse((await runOf(c.id, again.run_id)).stats ?? "{}");
    expect(stats).toMatchObject({
      rows_written: 0,
      transactions_added: 0,
      transactions_modified: 0,
      accounts_updated: 0,
    });
    // Forget the watermark: the next run fetches two years and still writes nothing.
    await env.DB.prepare("UPDATE connections SET last_synced_at = NULL WHERE id = ?").bind(c.id).run();
    const full = await queuedRun(c.id);
    await attempt(full, 1);
    const fullStats = JSON.parse((await runOf(c.id, full.run_id)).stats ?? "{}");
    expect(fullStats).toMatchObject({ rows_written: 0, transactions_fetched: 200, transactions_added: 0 });
    expect(await dataSnapshot(c.id)).toBe(before);
  });

  it("flaky: retried with full-jitter backoff, then recovered", async () => {
    const c = await syncedConnection({ scenario: "flaky" });
    const message = await queuedRun(c.id, "scheduled");
    const first = await attempt(message, 1);
    // Attempt 1 waits random(0, min(cap 2, base 1 × 2^0)) whole seconds.
    expect(first.action === "retry" && [0, 1].includes(first.delaySeconds ?? -1)).toBe(true);
    expect(await runOf(c.id, message.run_id)).toMatchObject({ status: "retrying", error_code: "provider_unavailable" });
    expect(await connectionRow(c.id)).toMatchObject({
      status: "active",
      last_error_code: "provider_unavailable",
      consecutive_failures: 0,
      sync_lock_owner: null,
    });
    const second = await attempt(message, 2);
    expect(second.action === "retry" && [0, 1, 2].includes(second.delaySeconds ?? -1)).toBe(true);
    expect(await attempt(message, 3)).toEqual({ action: "ack" });
    expect(await runOf(c.id, message.run_id)).toMatchObject({ status: "succeeded", attempts: 3, error_code: null });
    expect(await connectionRow(c.id)).toMatchObject({
      status: "active",
      last_error_code: null,
      consecutive_failures: 0,
    });
    expect((await dataCounts(c.id)).transactions).toBe(200);
  });

  it("persistent failure: retried up to SYNC_MAX_ATTEMPTS, then dead-lettered and the connection put in error", {
    timeout: 30_000,
  }, async () => {
    // `slow` answers after the client's timeout; a 100 ms header timeout makes each attempt quick.
    const slowEnv = envWith({ PROVIDER_CONNECT_TIMEOUT_MS: "100", PROVIDER_TIMEOUT_MS: "1000" });
    const c = await syncedConnection({ scenario: "slow" });
    const message = await queuedRun(c.id, "scheduled");
    for (let n = 1; n <= 4; n++) {
      expect((await attempt(message, n, slowEnv)).action, `attempt ${n}`).toBe("retry");
    }
    // The last attempt forwards the run to the real dead-letter queue and acknowledges it.
    expect(await attempt(message, 5, slowEnv)).toEqual({ action: "ack" });
    const letter = await waitForDeadLetter(message.run_id);
    expect(letter).toMatchObject({ connection_id: c.id, attempts: 5, error_code: "provider_unavailable" });
    expect(await runOf(c.id, message.run_id)).toMatchObject({ status: "dead_lettered" });
    expect(await connectionRow(c.id)).toMatchObject({
      status: "error",
      consecutive_failures: 1,
      last_error_code: "provider_unavailable",
      sync_lock_owner: null,
    });
    expect(await auditFor("sync.dead_lettered", c.id)).toHaveLength(1);
  });

  it("payment_required: no retry, error with a long cooldown; manual sync waits for it", async () => {
    const c = await syncedConnection({ scenario: "payment_required" });
    const message = await queuedRun(c.id, "scheduled");
    expect(await attempt(message, 1)).toEqual({ action: "ack" });
    expect(await runOf(c.id, message.run_id)).toMatchObject({
      status: "failed",
      error_code: "provider_payment_required",
    });
    const row = await connectionRow(c.id);
    expect(row).toMatchObject({
      status: "error",
      consecutive_failures: 1,
      last_error_code: "provider_payment_required",
    });
    // 24 hours (SYNC_PAYMENT_COOLDOWN_HOURS), far longer than the 30-minute failure cooldown.
    expect((row?.cooldown_until ?? 0) - Date.now()).toBeGreaterThan(23 * HOUR);
    expect(row?.next_sync_at).toBe(row?.cooldown_until);
    const res = await authed(c.token, `/api/v1/connections/${c.id}/sync`, { method: "POST" });
    expect(res.status).toBe(429);
    expect((await problem(res)).code).toBe("sync_too_soon");
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(23 * 3600);
    expect(await auditFor("sync.failed", c.id)).toHaveLength(1);
  });

  it("rate_limited: retried after exactly the provider's Retry-After; the connection cools down as long", async () => {
    const c = await syncedConnection({ scenario: "rate_limited" });
    const message = await queuedRun(c.id, "scheduled");
    const result = await attempt(message, 1);
    // The sandbox sends Retry-After: 2 (RFC 9110 §10.2.3).
    expect(result).toEqual({ action: "retry", delaySeconds: 2 });
    const row = await connectionRow(c.id);
    expect(row).toMatchObject({ status: "active", last_error_code: "provider_rate_limited" });
    const wait = (row?.cooldown_until ?? 0) - Date.now();
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(2000);
    const run = await runOf(c.id, message.run_id);
    expect(run).toMatchObject({ status: "retrying", error_code: "provider_rate_limited" });
    expect(Number(run.next_attempt_at) - Date.now()).toBeLessThanOrEqual(2000);
  });

  it("rate_limited to the last attempt: deferred, never a failure or a dead letter", async () => {
    const c = await syncedConnection({ scenario: "rate_limited" });
    const message = await queuedRun(c.id, "scheduled");
    expect(await attempt(message, 5)).toEqual({ action: "ack" });
    expect(await runOf(c.id, message.run_id)).toMatchObject({ status: "skipped", error_code: "provider_rate_limited" });
    const row = await connectionRow(c.id);
    expect(row).toMatchObject({ status: "active", consecutive_failures: 0, sync_lock_owner: null });
    // Tried again when the provider said, by the scheduler.
    expect(row?.next_sync_at).toBe(row?.cooldown_until);
    const letters = await env.DB.prepare("SELECT COUNT(*) AS n FROM sync_dead_letters WHERE run_id = ?")
      .bind(message.run_id)
      .first<{ n: number }>();
    expect(letters?.n).toBe(0);
  });

  it("revoked: reauth_required at once, audited, no retry; manual sync answers 409", async () => {
    const c = await syncedConnection({ scenario: "revoked" });
    const message = await queuedRun(c.id, "scheduled");
    expect(await attempt(message, 1)).toEqual({ action: "ack" });
    expect(await runOf(c.id, message.run_id)).toMatchObject({ status: "failed", error_code: "reauth_required" });
    expect(await connectionRow(c.id)).toMatchObject({ status: "reauth_required", sync_lock_owner: null });
    expect(await auditFor("connection.reauth_required", c.id)).toHaveLength(1);
    const res = await authed(c.token, `/api/v1/connections/${c.id}/sync`, { method: "POST" });
    expect(res.status).toBe(409);
    expect((await problem(res)).code).toBe("reauth_required");
    // A run queued before the flag is skipped, not attempted.
    const late = await queuedRun(c.id, "scheduled");
    expect(await attempt(late, 1)).toEqual({ action: "ack" });
    expect(await runOf(c.id, late.run_id)).toMatchObject({ status: "skipped", error_code: "reauth_required" });
  });

  for (const scenario of ["empty", "malformed"] as const) {
    it(`${scenario} after a good sync: the run fails and nothing is lost`, async () => {
      const login = `keeps-${scenario}`;
      const c = await syncedConnection({ login });
      await attempt(await queuedRun(c.id), 1);
      const before = await dataSnapshot(c.id);
      expect(await dataCounts(c.id)).toEqual({ accounts: 2, holdings: 7, transactions: 200 });
      // The same login starts answering badly: reauthorize it under the other scenario.
      await env.DB.prepare("UPDATE connections SET status = 'error' WHERE id = ?").bind(c.id).run();
      const re = await authed(c.token, `/api/v1/connections/${c.id}/reauthorize`, {
        method: "POST",
        json: { scenario, login },
      });
      expect(re.status).toBe(200);
      const { authorization_url } = (await re.json()) as { authorization_url: string };
      const { complete } = await import("../support/connections");
      expect((await complete(c.token, authorization_url)).status).toBe(200);

      const message = await queuedRun(c.id);
      expect(await attempt(message, 1)).toEqual({ action: "ack" });
      const code = scenario === "empty" ? "provider_empty_answer" : "provider_error";
      expect(await runOf(c.id, message.run_id)).toMatchObject({ status: "failed", error_code: code });
      expect(await connectionRow(c.id)).toMatchObject({ status: "error", last_error_code: code });
      expect(await dataSnapshot(c.id)).toBe(before);
      const accounts = (await (await authed(c.token, "/api/v1/accounts")).json()) as { accounts: unknown[] };
      expect(accounts.accounts).toHaveLength(2);
    });
  }

  it("large: 10,000 transactions in one account arrive complete", { timeout: 60_000 }, async () => {
    const c = await syncedConnection({ scenario: "large" });
    const message = await queuedRun(c.id);
    expect(await attempt(message, 1)).toEqual({ action: "ack" });
    const stats = JSON.parse((await runOf(c.id, message.run_id)).stats ?? "{}");
    expect(stats).toMatchObject({ transactions_added: 10_080, transactions_fetched: 10_080 });
    expect((await dataCounts(c.id)).transactions).toBe(10_080);
    const again = await queuedRun(c.id);
    await attempt(again, 1);
    expect(JSON.parse((await runOf(c.id, again.run_id)).stats ?? "{}")).toMatchObject({ rows_written: 0 });
  });
});

describe("one sync per connection at a time", () => {
  it("runs delivered together: one syncs, the others are skipped; the lease is released", async () => {
    const c = await syncedConnection({ login: "racing" });
    const messages = await Promise.all([queuedRun(c.id), queuedRun(c.id), queuedRun(c.id)]);
    const { deliver } = await import("../support/sync");
    const { QUEUES } = await import("../../src/home/messages");
    const results = await Promise.all(messages.map((m) => deliver(QUEUES.sync, [{ body: m }])));
    expect(results.every((r) => r.explicitAcks.length === 1)).toBe(true);
    const statuses = (await runsOf(c.id)).map((r) => r.status).sort();
    expect(statuses).toEqual(["skipped", "skipped", "succeeded"]);
    const skipped = (await runsOf(c.id)).filter((r) => r.status === "skipped");
    expect(skipped.every((r) => r.error_code === "sync_in_progress")).toBe(true);
    expect(await dataCounts(c.id)).toEqual({ accounts: 2, holdings: 7, transactions: 200 });
    expect(await connectionRow(c.id)).toMatchObject({ status: "active", sync_lock_owner: null });
  });

  it("a run whose lease was taken over writes nothing", async () => {
    const c = await syncedConnection({ login: "taken-over" });
    const message = await queuedRun(c.id);
    // Another run holds a live lease: this one must not even start.
    await env.DB.prepare("UPDATE connections SET sync_lock_owner = 'syn_other', sync_lock_until = ? WHERE id = ?")
      .bind(Date.now() + HOUR, c.id)
      .run();
    expect(await attempt(message, 1)).toEqual({ action: "ack" });
    expect(await runOf(c.id, message.run_id)).toMatchObject({ status: "skipped", error_code: "sync_in_progress" });
    expect(await dataCounts(c.id)).toEqual({ accounts: 0, holdings: 0, transactions: 0 });
  });
});

describe("the home applies snapshots in the order they were fetched", () => {
  it("a snapshot fetched before the one already applied writes nothing", async () => {
    const c = await syncedConnection({ login: "guarded" });
    const home = homeOf(c.userId);
    const at = new Date("2026-11-01T12:00:00Z");
    const answer = (name: string, amount: string) => [
      {
        since: new Date(at.getTime() - 30 * 86_400_000),
        account: {
          providerAccountId: "HASH",
          accountNumberMasked: "••••0000",
          name,
          type: "cash",
          kind: "brokerage" as const,
          currency: "USD",
          balances: { current: amount, available: amount, asOf: at },
          holdings: [],
        },
        transactions: [
          {
            providerTransactionId: "1",
            status: "posted" as const,
            type: "deposit",
            description: name,
            amount,
            currency: "USD",
            symbol: null,
            quantity: null,
            price: null,
            date: at,
            raw: { type: "DEPOSIT", status: "VALID", activityType: null, subAccount: null, orderId: null },
          },
        ],
      },
    ];
    /** One run's snapshot, recorded, begun and completed in the home (as the sync engine does). */
    const apply = async (name: string, amount: string, fetchedAt: number) => {
      const run = newRun({ id: c.id }, "manual", "test:{run}", HOUR);
      await home.command({ type: "recordRun", run: run.spec });
      await home.command({ type: "begin", runId: run.spec.id, attempt: 1 });
      const snapshot = { runId: run.spec.id, connectionId: c.id, provider: "schwab", fetchedAt, attempt: 1 };
      return home.command({
        type: "complete",
        pendingStaleMs: HOUR,
        snapshot: { ...snapshot, answer: answer(name, amount) },
      });
    };
    expect(await apply("newer", "2", at.getTime() + 1000)).toMatchObject({ kind: "applied" });
    const kept = await dataSnapshot(c.id);
    // A run that outlived its lease arrives late with an older snapshot: refused whole.
    expect(await apply("older", "1", at.getTime())).toEqual({ kind: "stale" });
    expect(await dataSnapshot(c.id)).toBe(kept);
    expect(await dataCounts(c.id)).toEqual({ accounts: 1, holdings: 0, transactions: 1 });
  });
});
describe("a sync's outcome never hides a re-auth flag set meanwhile", () => {
  it("keeps reauth_required (set by the credential-health job mid-run) when the run succeeds", async () => {
    const c = await syncedConnection({ login: "flag-kept" });
    const { acquireSyncLease, updateUnderSyncLease } = await import("../../src/db/connection-sync");
    const { successPatch } = await import("../../src/services/sync/outcome");
    const { createDb } = await import("../../src/db/client");
    const db = createDb(env.DB);
    const now = new Date();
    expect(await acquireSyncLease(db, c.id, "syn_mid", now, new Date(now.getTime() + HOUR))).toBeDefined();
    await env.DB.prepare("UPDATE connections SET status = 'reauth_required' WHERE id = ?").bind(c.id).run();
    expect(
      await updateUnderSyncLease(db, c.id, "syn_mid", successPatch(now, new Date(now.getTime() + HOUR))),
    ).toHaveLength(1);
    expect(await connectionRow(c.id)).toMatchObject({ status: "reauth_required", sync_lock_owner: null });
  });
});

async function waitForDeadLetter(runId: string) {
  const { vi } = await import("vitest");
  return vi.waitFor(
    async () => {
      const row = await env.DB.prepare("SELECT * FROM sync_dead_letters WHERE run_id = ?")
        .bind(runId)
        .first<Record<string, unknown>>();
      expect(row).not.toBeNull();
      return row as Record<string, unknown>;
    },
    { timeout: 15_000, interval: 100 },
  );
}
