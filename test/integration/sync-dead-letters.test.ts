import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { QUEUES } from "../../src/home/messages";
import { loggedInAdmin } from "../support/admin";
import { auditFor, connectSandbox } from "../support/connections";
import { envWith, problem } from "../support/http";
import { authed } from "../support/identity";
import { seededSession } from "../support/seed";
import { attempt, connectionRow, queuedRun, runsOf, settled } from "../support/sync";

interface DeadLetter {
  id: string;
  run_id: string;
  connection_id: string;
  user_id: string;
  trigger: string;
  attempts: number;
  error: { code: string; message: string };
  dead_lettered_at: string;
  replayed_at: string | null;
  replay_run_id: string | null;
  replayed_by: string | null;
}

const letterOf = (runId: string) =>
  vi.waitFor(
    async () => {
      const row = await env.DB.prepare("SELECT id FROM sync_dead_letters WHERE run_id = ?")
        .bind(runId)
        .first<{ id: string }>();
      expect(row).not.toBeNull();
      return row?.id as string;
    },
    { timeout: 15_000, interval: 100 },
  );

const list = async (token: string, q = "") => {
  const res = await authed(token, `/api/v1/admin/sync/dead-letters${q}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { dead_letters: DeadLetter[]; next_cursor: string | null };
};

describe("dead letters (admin)", () => {
  it("a run failing its last attempt is recorded once, listed, and replayed once", { timeout: 40_000 }, async () => {
    const admin = await loggedInAdmin();
    const { tokens } = await seededSession();
    // `slow` answers after the client's timeout (a provider down): transient, so retried, then dead.
    const connection = await connectSandbox(tokens.access_token, { scenario: "slow" });
    const slowEnv = envWith({ PROVIDER_CONNECT_TIMEOUT_MS: "100", PROVIDER_TIMEOUT_MS: "1000" });
    const message = await queuedRun(connection.id, "scheduled");
    // Its fifth attempt (SYNC_MAX_ATTEMPTS) fails too: forwarded to the real dead-letter queue.
    expect(await attempt(message, 5, slowEnv)).toEqual({ action: "ack" });
    const id = await letterOf(message.run_id);
    // The dead-letter queue delivers at least once: a second delivery records nothing new.
    expect(await attempt({ ...message, error: { code: "x", message: "y" } }, 1, env, QUEUES.deadLetters)).toEqual({
      action: "ack",
    });
    expect(
      (
        await env.DB.prepare("SELECT COUNT(*) AS n FROM sync_dead_letters WHERE run_id = ?")
          .bind(message.run_id)
          .first()
      )?.n,
    ).toBe(1);

    const open = await list(admin.tokens.access_token);
    const letter = open.dead_letters.find((d) => d.id === id);
    expect(letter).toMatchObject({
      run_id: message.run_id,
      connection_id: connection.id,
      user_id: tokens.user.id,
      trigger: "scheduled",
      attempts: 5,
      error: { code: "provider_unavailable" },
      replayed_at: null,
    });
    expect(await connectionRow(connection.id)).toMatchObject({ status: "error", consecutive_failures: 1 });
    // Its last_error must not promise a retry that will not come.
    const said = (await connectionRow(connection.id))?.last_error_message;
    expect(said).not.toMatch(/retried/);
    expect(said).toMatch(/set aside/);
    expect((await runsOf(connection.id))[0]?.status).toBe("dead_lettered");

    // An administrator replays it (the provider may have recovered): a new run, fresh attempts.
    const replay = await authed(admin.tokens.access_token, `/api/v1/admin/sync/dead-letters/${id}/replay`, {
      method: "POST",
    });
    expect(replay.status).toBe(202);
    const body = (await replay.json()) as { sync: { id: string; status: string }; dead_letter: DeadLetter };
    expect(body.sync.status).toBe("queued");
    expect(body.dead_letter).toMatchObject({ id, replay_run_id: body.sync.id, replayed_by: admin.tokens.user.id });
    const runs = await runsOf(connection.id);
    expect(runs.find((r) => r.id === body.sync.id)).toMatchObject({ trigger: "replay" });
    expect(await auditFor("sync.replayed", connection.id)).toHaveLength(1);

    const twice = await authed(admin.tokens.access_token, `/api/v1/admin/sync/dead-letters/${id}/replay`, {
      method: "POST",
    });
    expect(twice.status).toBe(409);
    expect((await problem(twice)).code).toBe("already_replayed");
    expect((await list(admin.tokens.access_token, "?state=replayed")).dead_letters.map((d) => d.id)).toContain(id);
    expect((await list(admin.tokens.access_token)).dead_letters.map((d) => d.id)).not.toContain(id);
  });

  it("records a message Queues dead-lettered itself (a crashing consumer); its replay syncs", {
    timeout: 30_000,
  }, async () => {
    const admin = await loggedInAdmin();
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    const message = await queuedRun(connection.id, "scheduled");
    expect(await attempt(message, 11, env, QUEUES.deadLetters)).toEqual({ action: "ack" });
    const id = await letterOf(message.run_id);
    const letter = (await list(admin.tokens.access_token)).dead_letters.find((d) => d.id === id);
    expect(letter?.error.code).toBe("sync_crashed");
    expect(await auditFor("sync.dead_lettered", connection.id)).toHaveLength(1);

    const replay = await authed(admin.tokens.access_token, `/api/v1/admin/sync/dead-letters/${id}/replay`, {
      method: "POST",
    });
    expect(replay.status).toBe(202);
    const run = await settled(connection.id);
    expect(run).toMatchObject({ trigger: "replay", status: "succeeded" });
    expect(await connectionRow(connection.id)).toMatchObject({ status: "active", consecutive_failures: 0 });
  });

  it("is for administrators only; unknown ids are 404; a connection needing re-auth is 409", async () => {
    const admin = await loggedInAdmin();
    const { tokens } = await seededSession();
    expect((await authed(tokens.access_token, "/api/v1/admin/sync/dead-letters")).status).toBe(403);
    expect(
      (await authed(tokens.access_token, "/api/v1/admin/sync/dead-letters/dlq_x/replay", { method: "POST" })).status,
    ).toBe(403);
    const missing = await authed(admin.tokens.access_token, "/api/v1/admin/sync/dead-letters/dlq_x/replay", {
      method: "POST",
    });
    expect(missing.status).toBe(404);
    for (const q of ["?state=bad", "?limit=0", "?cursor=%%%"]) {
      expect((await authed(admin.tokens.access_token, `/api/v1/admin/sync/dead-letters${q}`)).status, q).toBe(422);
    }

    const connection = await connectSandbox(tokens.access_token);
    const message = await queuedRun(connection.id, "scheduled");
    await attempt(message, 11, env, QUEUES.deadLetters);
    const id = await letterOf(message.run_id);
    await env.DB.prepare("UPDATE connections SET status = 'reauth_required' WHERE id = ?").bind(connection.id).run();
    const res = await authed(admin.tokens.access_token, `/api/v1/admin/sync/dead-letters/${id}/replay`, {
      method: "POST",
    });
    expect(res.status).toBe(409);
    expect((await problem(res)).code).toBe("reauth_required");
  });
});
