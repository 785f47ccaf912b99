import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import worker from "../../src";
import { QUEUES } from "../../src/home/messages";
import { newRun } from "../../src/services/sync/runs";
import { runCron } from "./deps";
import { connectionSql, homeOf, homeSql, ownerOf } from "./home";
import { authed } from "./identity";

/** The sync cron expression (wrangler.toml [triggers]). */
export const SYNC_CRON = "*/5 * * * *";

/** Fires the sync Cron Trigger through the Worker's own `scheduled` handler. */
export async function runSyncCron(envOf: Env = env, at = Date.now()) {
  await runCron(SYNC_CRON, envOf, at);
}

export interface RunRow {
  id: string;
  connection_id: string;
  trigger: string;
  status: string;
  attempts: number;
  error_code: string | null;
  next_attempt_at: number | null;
  idempotency_key: string;
  stats: string | null;
}

/** The connection's runs, oldest first (a direct look at its owner's home). */
export function runsOf(connectionId: string) {
  return connectionSql<RunRow>(
    connectionId,
    "SELECT * FROM sync_runs WHERE connection_id = ? ORDER BY queued_at, id",
    connectionId,
  );
}

const FINISHED = ["succeeded", "failed", "dead_lettered", "skipped"];

/** Waits (bounded) until the connection's newest run is finished, as the real queue consumer works it. */
export async function settled(connectionId: string, timeout = 20_000): Promise<RunRow> {
  return vi.waitFor(
    async () => {
      const runs = await runsOf(connectionId);
      const last = runs.at(-1);
      expect(last, "no run yet").toBeDefined();
      expect(FINISHED, `run ${last?.status}`).toContain(last?.status);
      return last as RunRow;
    },
    { timeout, interval: 100 },
  );
}

/** One queue message as Queues would deliver it. */
export interface Delivery {
  body: unknown;
  attempts?: number;
}

/** Delivers messages to the Worker's `queue()` handler directly and returns how it settled them. */
export async function deliver(queue: string, messages: Delivery[], envOf: Env = env) {
  const batch = createMessageBatch(
    queue,
    messages.map((m, i) => ({
      id: `msg-${Date.now()}-${i}`,
      timestamp: new Date(),
      attempts: m.attempts ?? 1,
      body: m.body,
    })),
  );
  const ctx = createExecutionContext();
  await (worker.queue as ExportedHandlerQueueHandler<Env>)(batch, envOf, ctx);
  return getQueueResult(batch, ctx);
}

/** GET helper returning status and parsed JSON. */
export async function getJson<T = Record<string, unknown>>(token: string, path: string) {
  const res = await authed(token, path);
  return { status: res.status, body: (await res.json()) as T, res };
}

export { envWith } from "./http";

/** Records a queued run for a connection in its owner's home, as the cron or a manual request would, and returns its message. */
export async function queuedRun(connectionId: string, trigger: "scheduled" | "manual" | "replay" = "manual") {
  const userId = await ownerOf(connectionId);
  const run = newRun({ id: connectionId }, trigger, "test:{run}", 3_600_000);
  await homeOf(userId).command({ type: "recordRun", run: run.spec });
  return run.message;
}

/** How the consumer settled one delivered message. */
export type Settled = { action: "ack" } | { action: "retry"; delaySeconds: number | undefined } | { action: "none" };

/**
 * Delivers one attempt of a message to the Worker's real `queue()` handler in a batch that
 * records exactly what the handler did with it, retry delay included (the plugin's
 * createMessageBatch does not keep `delaySeconds`).
 */
export async function attempt(body: unknown, attempts: number, envOf: Env = env, queue: string = QUEUES.sync) {
  let settled: Settled = { action: "none" };
  const message = {
    id: `msg-${crypto.randomUUID()}`,
    timestamp: new Date(),
    attempts,
    body,
    ack: () => {
      settled = { action: "ack" };
    },
    retry: (options?: QueueRetryOptions) => {
      settled = { action: "retry", delaySeconds: options?.delaySeconds };
    },
  };
  const batch = {
    queue,
    messages: [message],
    ackAll: () => message.ack(),
    retryAll: (options?: QueueRetryOptions) => message.retry(options),
  } as unknown as MessageBatch<unknown>;
  await (worker.queue as ExportedHandlerQueueHandler<Env>)(batch, envOf, createExecutionContext());
  return settled as Settled;
}

/**
 * Row counts of a connection's synced data (a direct look at its owner's home; name the owner
 * for a connection D1 no longer has).
 */
export async function dataCounts(connectionId: string, userId?: string) {
  const owner = userId ?? (await ownerOf(connectionId));
  const one = async (query: string) => (await homeSql<{ n: number }>(owner, query, connectionId))[0]?.n ?? 0;
  return {
    accounts: await one("SELECT COUNT(*) AS n FROM accounts WHERE connection_id = ?"),
    holdings: await one(
      "SELECT COUNT(*) AS n FROM holdings WHERE account_id IN (SELECT id FROM accounts WHERE connection_id = ?)",
    ),
    transactions: await one(
      "SELECT COUNT(*) AS n FROM transactions WHERE account_id IN (SELECT id FROM accounts WHERE connection_id = ?)",
    ),
  };
}

/** A fingerprint of everything synced for a connection, to prove a failed sync changed nothing. */
export async function dataSnapshot(connectionId: string) {
  const all = (query: string) => connectionSql(connectionId, query, connectionId);
  return JSON.stringify([
    await all("SELECT * FROM accounts WHERE connection_id = ? ORDER BY id"),
    await all(
      "SELECT * FROM holdings WHERE account_id IN (SELECT id FROM accounts WHERE connection_id = ?) ORDER BY id",
    ),
    await all(
      "SELECT * FROM transactions WHERE account_id IN (SELECT id FROM accounts WHERE connection_id = ?) ORDER BY id",
    ),
  ]);
}

/** The raw connection row's sync fields. */
export const connectionRow = (id: string) =>
  env.DB.prepare("SELECT * FROM connections WHERE id = ?").bind(id).first<{
    status: string;
    consecutive_failures: number;
    cooldown_until: number | null;
    next_sync_at: number | null;
    last_synced_at: number | null;
    last_error_message: string | null;
    last_error_code: string | null;
    sync_lock_owner: string | null;
  }>();
