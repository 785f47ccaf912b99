/**
 * What a sync attempt costs in calls besides the provider's (issue 20): at most three calls to the
 * user's home and two D1 round trips, plus the credentials' own reads. Counted on the real
 * bindings through the attempt's own meter (src/services/sync/meter.ts), which also logs them.
 */
import { describe, expect, it } from "vitest";
import type { SyncMessage } from "../../src/home/messages";
import type { LogFields, Logger } from "../../src/logger";
import { runSyncAttempt } from "../../src/services/sync/execute";
import { callbackPost, connectSandbox } from "../support/connections";
import { testDeps } from "../support/deps";
import { call } from "../support/http";
import { authed } from "../support/identity";
import { seededSession } from "../support/seed";
import { queuedRun } from "../support/sync";

/** A logger that keeps its info lines. */
function keepingLogger(lines: LogFields[]): Logger {
  const logger: Logger = {
    debug() {},
    info: (msg, fields) => lines.push({ msg, ...fields }),
    warn() {},
    error() {},
    with: () => logger,
  };
  return logger;
}

/** Alpaca's sandbox through its consent page, as a browser would go. */
async function connectAlpaca(token: string) {
  const res = await authed(token, "/api/v1/connections", { method: "POST", json: { provider: "sandbox_alpaca" } });
  const url = new URL(((await res.json()) as { authorization_url: string }).authorization_url);
  const back = new URL((await call(url.pathname + url.search, { redirect: "manual" })).headers.get("Location") ?? "");
  const handOff = await call(back.pathname + back.search, { headers: { Accept: "application/json" } });
  const done = await callbackPost(token, (await handOff.json()) as { state: string; code: string });
  expect(done.status).toBe(200);
  return ((await done.json()) as { connection: { id: string } }).connection;
}

async function costOf(connectionId: string, attempt = 1) {
  const lines: LogFields[] = [];
  const deps = await testDeps({ logger: keepingLogger(lines) });
  const message = (await queuedRun(connectionId)) as SyncMessage;
  const result = await runSyncAttempt(deps, message, attempt);
  await deps.settle();
  const cost = lines.find((l) => l.msg === "sync attempt cost" && l.run_id === message.run_id);
  return { result, cost };
}

describe("a sync attempt's calls", () => {
  it("a success: two home calls (begin, complete) and two D1 round trips (lease, outcome)", async () => {
    const { tokens } = await seededSession();
    // Alpaca's token never refreshes; the connection's lease answers the row the credentials need.
    const alpaca = await connectAlpaca(tokens.access_token);
    const first = await costOf(alpaca.id);
    expect(first.result).toEqual({ action: "ack", outcome: "succeeded" });
    expect(first.cost).toMatchObject({ outcome: "succeeded", home_calls: 2, d1_round_trips: 2 });
    // A re-sync of unchanged data costs the same.
    expect((await costOf(alpaca.id)).cost).toMatchObject({ home_calls: 2, d1_round_trips: 2 });
    // Schwab's retry with a live token: the same two and two.
    const schwab = await connectSandbox(tokens.access_token);
    expect((await costOf(schwab.id, 2)).cost).toMatchObject({ outcome: "succeeded", home_calls: 2, d1_round_trips: 2 });
  });

  it("a first attempt that refreshes first: the refresh's own two round trips (its lease, its write) and no more", async () => {
    const { tokens } = await seededSession();
    const schwab = await connectSandbox(tokens.access_token);
    expect((await costOf(schwab.id, 1)).cost).toMatchObject({ outcome: "succeeded", home_calls: 2, d1_round_trips: 4 });
  });

  it("a failure (a revoked grant): begin and fail, and the D1 writes of what failed", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token, { scenario: "revoked" });
    const { result, cost } = await costOf(connection.id);
    expect(result).toMatchObject({ action: "ack", outcome: "failed" });
    expect(cost).toMatchObject({ outcome: "failed", home_calls: 2 });
    // The lease; the refresh's lease and its refusal (reauth required, audited); the connection's
    // failure with its audit row (a revoked grant is the user's, not counted against the provider).
    expect(cost?.d1_round_trips).toBe(4);
  });
});
