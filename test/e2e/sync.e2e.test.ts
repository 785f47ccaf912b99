import { describe, expect, inject, it } from "vitest";
import { client, completeConnect, connectSandbox, newUser } from "./support";

const base = inject("baseUrl");
const { send } = client(base);

interface Connection {
  id: string;
  status: string;
  last_synced_at: string | null;
  next_sync_at: string | null;
  last_error: { code: string } | null;
  consecutive_failures: number;
}
interface Run {
  id: string;
  trigger: string;
  status: string;
  attempts: number;
  stats: Record<string, number> | null;
  error: { code: string } | null;
}

/** Fires the sync Cron Trigger on the real `wrangler dev --test-scheduled`. */
async function fireSyncCron() {
  const res = await send(`/__scheduled?cron=${encodeURIComponent("*/5 * * * *")}`);
  expect(res.status).toBe(200);
}

/** Connects a sandbox login through the browser's redirect flow and the app's completion. */
async function connect(token: string, body: Record<string, unknown> = {}) {
  const { started, location } = await connectSandbox(base, token, body);
  expect((await completeConnect(base, token, location)).status).toBe(200);
  return started.connection.id;
}

/** Polls until `done` holds (bounded), returning the last value seen. */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const connectionOf = (token: string, id: string) => async () =>
  (await (await send(`/api/v1/connections/${id}`, { token })).json()) as Connection;
const runsOf = (token: string, id: string) => async () =>
  ((await (await send(`/api/v1/connections/${id}/syncs`, { token })).json()) as { syncs: Run[] }).syncs;

// The whole sync path on a real `wrangler dev`: Cron Trigger → Queue → consumer, with real
// delayed retries and the dead-letter queue, watched over HTTP only.
describe("sync over HTTP", () => {
  let token: string;

  it("a connected login becomes synced after the cron fires, with its data", { timeout: 60_000 }, async () => {
    token = await newUser(base, "sync");
    const id = await connect(token);
    await fireSyncCron();
    const synced = await until(connectionOf(token, id), (c) => c.last_synced_at !== null);
    expect(synced).toMatchObject({ status: "active", last_error: null, consecutive_failures: 0 });
    expect(Date.parse(synced.next_sync_at ?? "")).toBeGreaterThan(Date.now() + 3 * 3_600_000);

    const [run] = await runsOf(token, id)();
    expect(run).toMatchObject({ trigger: "scheduled", status: "succeeded", attempts: 1 });
    expect(run?.stats).toMatchObject({ accounts_added: 2, holdings_upserted: 7, transactions_added: 200 });

    const accounts = (await (await send(`/api/v1/accounts?connection_id=${id}`, { token })).json()) as {
      accounts: { id: string; balances: { current: string } }[];
    };
    expect(accounts.accounts).toHaveLength(2);
    expect(accounts.accounts[0]?.balances.current).toMatch(/^-?\d+(\.\d+)?$/);
    const feed = (await (await send("/api/v1/transactions/sync?count=500", { token })).json()) as {
      added: unknown[];
      has_more: boolean;
    };
    expect(feed.added).toHaveLength(200);
    expect(feed.has_more).toBe(false);
    // No "manual sync too soon" here: this server runs without the 5-minute spacing
    // (global-setup.ts), which test/integration/sync-schedule.test.ts covers; banks.e2e.test.ts
    // sees `sync_too_soon` over HTTP while a connection cools down after a bank's 429.
  });

  // The three failure paths wait on real retries (the slow one about 15 s), each on a connection of
  // its own with one scheduled run however many times the cron fires: they wait side by side.
  it.concurrent("flaky: the real queue retries with a delay and the sync recovers", { timeout: 60_000 }, async ({
    expect,
  }) => {
    const id = await connect(token, { scenario: "flaky" });
    await fireSyncCron();
    const runs = await until(runsOf(token, id), (r) => r[0]?.status === "succeeded");
    expect(runs[0]?.attempts).toBe(3);
    expect(await connectionOf(token, id)()).toMatchObject({ status: "active", last_error: null });
  });

  it.concurrent("revoked: reauth_required without retries", { timeout: 60_000 }, async ({ expect }) => {
    const id = await connect(token, { scenario: "revoked" });
    await fireSyncCron();
    const c = await until(connectionOf(token, id), (x) => x.status === "reauth_required");
    expect(c.last_error?.code).toBe("reauth_required");
    expect((await runsOf(token, id)())[0]).toMatchObject({ status: "failed", attempts: 1 });
  });

  it.concurrent("a persistently failing provider is dead-lettered after the last attempt", {
    timeout: 90_000,
  }, async ({ expect }) => {
    const id = await connect(token, { scenario: "slow" });
    await fireSyncCron();
    const runs = await until(runsOf(token, id), (r) => r[0]?.status === "dead_lettered", 80_000);
    expect(runs[0]?.attempts).toBe(5);
    expect(await connectionOf(token, id)()).toMatchObject({
      status: "error",
      consecutive_failures: 1,
      last_error: { code: "provider_unavailable" },
    });
  });
});
