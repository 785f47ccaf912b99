import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SweepMessage, SyncMessage } from "../../src/home/messages";
import { SWEEP_SLICES, scheduleDueSyncs, sweepSlice } from "../../src/services/sync/schedule";
import { type ConnectionJson, connectSandbox, started } from "../support/connections";
import { testDeps } from "../support/deps";
import { connectionSql } from "../support/home";
import { problem } from "../support/http";
import { authed } from "../support/identity";
import { seededSession } from "../support/seed";
import { attempt, connectionRow, envWith, getJson, queuedRun, runSyncCron, runsOf, settled } from "../support/sync";

// The whole path with real Queues: the Worker's scheduled() queues, its queue() consumes.
const MINUTE = 60_000;

async function user() {
  const { tokens } = await seededSession();
  return { token: tokens.access_token, userId: tokens.user.id };
}

/** Makes a connection due again, as if its next_sync_at had passed and its last run were old. */
const makeDue = (id: string) =>
  env.DB.prepare(
    "UPDATE connections SET next_sync_at = ?, last_sync_requested_at = ?, cooldown_until = NULL WHERE id = ?",
  )
    .bind(Date.now() - MINUTE, Date.now() - 10 * MINUTE, id)
    .run();

describe("the sync cron schedules, the queue consumer syncs", () => {
  it("a new connection is due at once: cron → queue → synced, visible through the API", {
    timeout: 30_000,
  }, async () => {
    const u = await user();
    const connection = await connectSandbox(u.token);
    expect(connection.next_sync_at).toBeNull();
    await runSyncCron();
    const run = await settled(connection.id);
    expect(run).toMatchObject({ status: "succeeded", trigger: "scheduled", attempts: 1 });
    expect(run.idempotency_key).toBe(`scheduled:${connection.id}:0`);

    const { body: conn } = await getJson<ConnectionJson>(u.token, `/api/v1/connections/${connection.id}`);
    expect(conn).toMatchObject({ status: "active", consecutive_failures: 0, last_error: null, cooldown_until: null });
    expect(Date.parse(conn.last_synced_at ?? "")).toBeGreaterThan(Date.now() - MINUTE);
    expect(Date.parse(conn.next_sync_at ?? "")).toBeGreaterThan(Date.now() + 3 * 60 * MINUTE);

    const { body: syncs } = await getJson<{ syncs: Record<string, unknown>[] }>(
      u.token,
      `/api/v1/connections/${connection.id}/syncs`,
    );
    expect(syncs.syncs).toHaveLength(1);
    expect(syncs.syncs[0]).toMatchObject({
      id: run.id,
      connection_id: connection.id,
      trigger: "scheduled",
      status: "succeeded",
      attempts: 1,
      error: null,
      next_attempt_at: null,
      stats: { accounts_added: 2, transactions_added: 200, holdings_upserted: 7 },
    });
    for (const key of ["queued_at", "started_at", "finished_at"]) {
      expect(syncs.syncs[0]?.[key]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
  });

  it("is idempotent: firing twice queues one run; a synced connection is not due again", {
    timeout: 30_000,
  }, async () => {
    const u = await user();
    const connection = await connectSandbox(u.token);
    await Promise.all([runSyncCron(), runSyncCron()]);
    await settled(connection.id);
    await runSyncCron();
    expect(await runsOf(connection.id)).toHaveLength(1);
    // Once due again it is queued again, under a new idempotency key.
    await makeDue(connection.id);
    await runSyncCron();
    const again = await settled(connection.id);
    const runs = await runsOf(connection.id);
    expect(runs).toHaveLength(2);
    expect(again.idempotency_key).not.toBe(runs[0]?.idempotency_key);
    expect(JSON.parse(again.stats ?? "{}")).toMatchObject({ rows_written: 0, transactions_added: 0 });
  });

  it("skips connections that are pending, need re-auth, cool down, or are mid-sync", async () => {
    const u = await user();
    const pending = (await started(u.token)).connection;
    const reauth = await connectSandbox(u.token);
    const cooling = await connectSandbox(u.token);
    const leased = await connectSandbox(u.token);
    await env.DB.batch([
      env.DB.prepare("UPDATE connections SET status = 'reauth_required' WHERE id = ?").bind(reauth.id),
      env.DB.prepare("UPDATE connections SET cooldown_until = ? WHERE id = ?").bind(
        Date.now() + 30 * MINUTE,
        cooling.id,
      ),
      env.DB.prepare("UPDATE connections SET sync_lock_owner = 'syn_x', sync_lock_until = ? WHERE id = ?").bind(
        Date.now() + 10 * MINUTE,
        leased.id,
      ),
    ]);
    await runSyncCron();
    for (const c of [pending, reauth, cooling, leased]) expect(await runsOf(c.id), c.id).toHaveLength(0);
  });

  it("reads due connections in bounded pages of at most 100 messages each", async () => {
    const u = await user();
    const connections = await Promise.all(Array.from({ length: 3 }, () => connectSandbox(u.token)));
    const sent: SyncMessage[][] = [];
    const deps = await testDeps({
      random: () => 0.5,
      queue: {
        send: async () => ({ metadata: {} }) as unknown as QueueSendResponse,
        sendBatch: async (messages) => {
          sent.push([...messages].map((m) => m.body as SyncMessage));
          return { metadata: {} } as unknown as QueueSendBatchResponse;
        },
      },
    });
    const report = await scheduleDueSyncs(deps, new Date());
    expect(report.queued).toBeGreaterThanOrEqual(3);
    expect(sent.every((batch) => batch.length <= 100)).toBe(true);
    const ids = sent.flat().map((m) => m.connection_id);
    for (const c of connections) expect(ids.filter((id) => id === c.id)).toHaveLength(1);
    for (const m of sent.flat()) expect(m).toMatchObject({ v: 1, trigger: "scheduled" });
    // Those runs were never delivered here; finish them so the file's other tests are not confused.
    for (const c of connections) {
      await connectionSql(
        c.id,
        "UPDATE sync_runs SET status = 'skipped' WHERE status = 'queued' AND connection_id = ?",
        c.id,
      );
    }
  });
});

describe("the scheduler fans out past its own pages", () => {
  it("the rest of the id space goes out as sweeps: every slice once, continuations until done", async () => {
    const u = await user();
    const connections = await Promise.all(Array.from({ length: 5 }, () => connectSandbox(u.token)));
    const sent: unknown[] = [];
    const deps = await testDeps({
      random: () => 0.5,
      queue: {
        send: async () => ({ metadata: {} }) as unknown as QueueSendResponse,
        sendBatch: async (messages) => {
          for (const m of messages) sent.push(m.body);
          return { metadata: {} } as unknown as QueueSendBatchResponse;
        },
      },
    });
    const isSweep = (m: unknown): m is SweepMessage => (m as { kind?: string }).kind === "sweep";
    // A tick with no pages of its own: everything goes to sweeps, one per slice, covering all ids.
    const tick = await scheduleDueSyncs(deps, new Date(), { pages: 0 });
    expect(tick).toMatchObject({ sweeps: SWEEP_SLICES, queued: 0 });
    const sweeps = sent.splice(0).filter(isSweep);
    expect(sweeps).toHaveLength(SWEEP_SLICES);
    expect(sweeps[0]?.after).toBe("");
    expect(sweeps.at(-1)?.to).toBeNull();
    for (let i = 1; i < sweeps.length; i++) expect(sweeps[i]?.after).toBe(sweeps[i - 1]?.to);
    // Consumers work them with a tiny budget (1 connection a page, 1 page), so continuations happen.
    const runs: SyncMessage[] = [];
    let continuations = 0;
    while (sweeps.length > 0) {
      await sweepSlice(deps, sweeps.shift() as SweepMessage, { pages: 1, pageSize: 1 });
      for (const m of sent.splice(0)) {
        if (isSweep(m)) {
          sweeps.push(m);
          continuations++;
        } else runs.push(m as SyncMessage);
      }
    }
    expect(continuations).toBeGreaterThan(0);
    for (const c of connections)
      expect(
        runs.filter((m) => m.connection_id === c.id),
        c.id,
      ).toHaveLength(1);
    // Never delivered here: finish them so the file's other tests are not confused.
    for (const c of connections) {
      await connectionSql(
        c.id,
        "UPDATE sync_runs SET status = 'skipped' WHERE status = 'queued' AND connection_id = ?",
        c.id,
      );
    }
  });
});

describe("manual sync", () => {
  it("202 queued, then 429 sync_too_soon with Retry-After within 5 minutes", { timeout: 30_000 }, async () => {
    const u = await user();
    const connection = await connectSandbox(u.token);
    const res = await authed(u.token, `/api/v1/connections/${connection.id}/sync`, { method: "POST" });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { sync: { id: string; status: string } };
    expect(body.sync.status).toBe("queued");
    const run = await settled(connection.id);
    expect(run).toMatchObject({ id: body.sync.id, trigger: "manual", status: "succeeded" });

    const again = await authed(u.token, `/api/v1/connections/${connection.id}/sync`, { method: "POST" });
    expect(again.status).toBe(429);
    const p = await problem(again);
    expect(p.code).toBe("sync_too_soon");
    const retryAfter = Number(again.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(280);
    expect(retryAfter).toBeLessThanOrEqual(300);
    // Five minutes later it is allowed again.
    await env.DB.prepare("UPDATE connections SET last_sync_requested_at = ? WHERE id = ?")
      .bind(Date.now() - 5 * MINUTE - 1000, connection.id)
      .run();
    expect((await authed(u.token, `/api/v1/connections/${connection.id}/sync`, { method: "POST" })).status).toBe(202);
    await settled(connection.id);
  });

  it("a manual sync right after a scheduled one is too soon as well", { timeout: 30_000 }, async () => {
    const u = await user();
    const connection = await connectSandbox(u.token);
    await runSyncCron();
    await settled(connection.id);
    const res = await authed(u.token, `/api/v1/connections/${connection.id}/sync`, { method: "POST" });
    expect(res.status).toBe(429);
  });

  it("returns the run already under way instead of queueing another", async () => {
    const u = await user();
    const connection = await connectSandbox(u.token);
    const queued = await queuedRun(connection.id, "scheduled");
    const res = await authed(u.token, `/api/v1/connections/${connection.id}/sync`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ sync: { id: queued.run_id, status: "queued" } });
    expect(await runsOf(connection.id)).toHaveLength(1);
    await attempt(queued, 1);
  });

  it("404 for another user's connection, 409 for one that needs re-auth or was never authorized", async () => {
    const a = await user();
    const b = await user();
    const mine = await connectSandbox(a.token);
    const res = await authed(b.token, `/api/v1/connections/${mine.id}/sync`, { method: "POST" });
    expect(res.status).toBe(404);
    expect((await problem(res)).code).toBe("not_found");
    const runs = await authed(b.token, `/api/v1/connections/${mine.id}/syncs`);
    expect(runs.status).toBe(404);

    const pending = (await started(a.token)).connection;
    const notReady = await authed(a.token, `/api/v1/connections/${pending.id}/sync`, { method: "POST" });
    expect(notReady.status).toBe(409);
    expect((await problem(notReady)).code).toBe("connection_not_ready");

    await env.DB.prepare("UPDATE connections SET status = 'reauth_required' WHERE id = ?").bind(mine.id).run();
    const reauth = await authed(a.token, `/api/v1/connections/${mine.id}/sync`, { method: "POST" });
    expect(reauth.status).toBe(409);
    expect((await problem(reauth)).code).toBe("reauth_required");
  });

  it("validates the runs listing's limit and cursor", async () => {
    const u = await user();
    const connection = await connectSandbox(u.token);
    for (const q of ["limit=0", "limit=101", "limit=x", "cursor=%%%"]) {
      const res = await authed(u.token, `/api/v1/connections/${connection.id}/syncs?${q}`);
      expect(res.status, q).toBe(422);
      expect((await problem(res)).code).toBe("validation_failed");
    }
  });
});

describe("the kill switch (SYNC_DISABLED)", () => {
  const off = envWith({ SYNC_DISABLED: "true" });

  it("stops scheduling, skips queued runs, and answers manual syncs 503 sync_disabled", async () => {
    const u = await user();
    const connection = await connectSandbox(u.token);
    await runSyncCron(off);
    expect(await runsOf(connection.id)).toHaveLength(0);

    const { default: worker } = await import("../../src");
    const { createExecutionContext } = await import("cloudflare:test");
    const res = await worker.fetch(
      new Request(`https://x.test/api/v1/connections/${connection.id}/sync`, {
        method: "POST",
        headers: { Authorization: `Bearer ${u.token}` },
      }),
      off,
      createExecutionContext(),
    );
    expect(res.status).toBe(503);
    expect((await problem(res)).code).toBe("sync_disabled");
    expect(res.headers.get("Retry-After")).not.toBeNull();

    // A run queued before the switch was thrown is drained as skipped, without provider calls.
    const queued = await queuedRun(connection.id, "scheduled");
    expect(await attempt(queued, 1, off)).toEqual({ action: "ack" });
    expect((await runsOf(connection.id))[0]).toMatchObject({ status: "skipped", error_code: "sync_disabled" });
    expect((await connectionRow(connection.id))?.last_synced_at).toBeNull();
  });
});
