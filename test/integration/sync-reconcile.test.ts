import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { auditFor, connectSandbox } from "../support/connections";
import { HOURLY_CRON, runCron } from "../support/deps";
import { homeOf, homeSql, ownerOf } from "../support/home";
import { seededSession } from "../support/seed";

import { attempt, connectionRow, queuedRun, runsOf } from "../support/sync";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Queues delivers in batches (wrangler.toml: a batch waits up to a second). */
const QUEUE_WAIT = { timeout: 10_000, interval: 100 };

/** The hourly Cron Trigger, through the Worker's own scheduled handler. */
const hourly = () => runCron(HOURLY_CRON);

async function synced(body: Record<string, unknown> = {}) {
  const { tokens } = await seededSession();
  const connection = await connectSandbox(tokens.access_token, body);
  expect(await attempt(await queuedRun(connection.id), 1)).toEqual({ action: "ack" });
  return connection;
}

describe("reconciliation (hourly)", () => {
  it("reports a connection without a successful sync for SYNC_STALE_HOURS, once; a success clears it", async () => {
    const connection = await synced();
    await env.DB.prepare("UPDATE connections SET last_synced_at = ? WHERE id = ?")
      .bind(Date.now() - 49 * HOUR, connection.id)
      .run();
    await hourly();
    await hourly();
    const audits = await auditFor("sync.connection_stale", connection.id);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ outcome: "failure" });
    expect(audits[0]?.details).toMatchObject({ status: "active", connection_id: connection.id });

    await attempt(await queuedRun(connection.id), 1);
    const row = await env.DB.prepare("SELECT stale_reported_at FROM connections WHERE id = ?")
      .bind(connection.id)
      .first<{ stale_reported_at: number | null }>();
    expect(row?.stale_reported_at).toBeNull();
  });

  it("reports pending transactions that never posted, per connection, once (the user's home, on its alarm)", async () => {
    const connection = await synced({ scenario: "pending_to_posted", login: "never-posts" });
    const userId = await ownerOf(connection.id);
    const [pending] = await homeSql<{ id: string }>(
      userId,
      "SELECT t.id FROM transactions t JOIN accounts a ON a.id = t.account_id WHERE a.connection_id = ? AND t.status = 'pending'",
      connection.id,
    );
    expect(pending).toBeDefined();
    const feedBefore = await homeSql(userId, "SELECT change_seq FROM transactions WHERE id = ?", pending?.id ?? "");
    await homeSql(userId, "UPDATE transactions SET date = ? WHERE id = ?", Date.now() - 11 * DAY, pending?.id ?? "");
    // The home wakes itself (a sync scheduled its alarm); twice, as alarms may repeat.
    expect(await runDurableObjectAlarm(homeOf(userId))).toBe(true);
    expect(await runDurableObjectAlarm(homeOf(userId))).toBe(true);
    // The home writes no D1: its report travels on the sync queue, whose consumer audits it.
    const audits = await vi.waitFor(async () => {
      const rows = await auditFor("sync.pending_unposted", connection.id);
      expect(rows).toHaveLength(1);
      return rows;
    }, QUEUE_WAIT);
    expect(audits[0]).toMatchObject({ user_id: userId });
    expect(audits[0]?.details).toMatchObject({ count: 1, transaction_ids: [pending?.id] });
    // The report is not a change clients see: the transaction's feed number stays.
    const [row] = await homeSql<{ status: string; stale_reported_at: number | null; change_seq: number }>(
      userId,
      "SELECT status, stale_reported_at, change_seq FROM transactions WHERE id = ?",
      pending?.id ?? "",
    );
    expect(row?.status).toBe("pending");
    expect(row?.stale_reported_at).not.toBeNull();
    expect([{ change_seq: row?.change_seq }]).toEqual(feedBefore);
  });

  it("fails runs that outlived their horizon (the home) and releases expired leases (hourly)", async () => {
    const connection = await synced();
    const userId = await ownerOf(connection.id);
    const lost = await queuedRun(connection.id, "scheduled");
    // Past the run's own deadline (every attempt with its backoff, given when it was recorded).
    await homeSql(
      userId,
      "UPDATE sync_runs SET queued_at = ?, deadline_at = ? WHERE id = ?",
      Date.now() - 3 * HOUR,
      Date.now() - HOUR,
      lost.run_id,
    );
    await env.DB.prepare(
      "UPDATE connections SET status = 'syncing', sync_lock_owner = ?, sync_lock_until = ? WHERE id = ?",
    )
      .bind(lost.run_id, Date.now() - 1000, connection.id)
      .run();
    await hourly();
    expect(await connectionRow(connection.id)).toMatchObject({ status: "active", sync_lock_owner: null });
    const released = await env.DB.prepare(
      "SELECT details FROM audit_events WHERE action = 'sync.reconciled' AND user_id IS NULL ORDER BY occurred_at DESC LIMIT 1",
    ).first<{ details: string }>();
    expect(JSON.parse(released?.details ?? "{}")).toMatchObject({ released_leases: 1 });

    await runDurableObjectAlarm(homeOf(userId));
    expect((await runsOf(connection.id)).find((r) => r.id === lost.run_id)).toMatchObject({
      status: "failed",
      error_code: "run_lost",
    });
    const summary = await vi.waitFor(async () => {
      const row = await env.DB.prepare(
        "SELECT details FROM audit_events WHERE action = 'sync.reconciled' AND user_id = ? ORDER BY occurred_at DESC LIMIT 1",
      )
        .bind(userId)
        .first<{ details: string }>();
      expect(row).not.toBeNull();
      return row;
    }, QUEUE_WAIT);
    expect(JSON.parse(summary?.details ?? "{}")).toMatchObject({ lost_runs: 1, run_ids: [lost.run_id] });
  });
});
