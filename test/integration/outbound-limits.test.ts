/**
 * Per-provider limits on outbound calls (issue 23 item 5): a token bucket per provider in the
 * Limiter, taken before every call. A refused call never reaches the provider and never counts
 * as the connection's failure: the run is retried after the bucket's wait. (Isolated storage: it
 * drains the sandbox's bucket.)
 */
import { describe, expect, it } from "vitest";
import { connectSandbox } from "../support/connections";
import { envWith } from "../support/http";
import { authed } from "../support/identity";
import { seededSession } from "../support/seed";
import { attempt, connectionRow, queuedRun, runsOf } from "../support/sync";

describe("outbound limits", () => {
  it("a spent budget defers the run's calls, and the connection keeps a clean record", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    const points: { blobs?: string[] }[] = [];
    // Two calls a minute for the sandboxes: a sync needs more (refresh, accounts, transactions).
    const tight = {
      ...envWith({ RATE_LIMITS: JSON.stringify({ provider_sandbox: { burst: 2, refill: 2, per_seconds: 60 } }) }),
      METRICS: { writeDataPoint: (p: { blobs?: string[] }) => void points.push(p) },
    } as Env;
    const message = await queuedRun(connection.id, "scheduled");
    const result = await attempt(message, 1, tight);
    expect(result.action).toBe("retry");
    expect((result as { delaySeconds: number }).delaySeconds).toBeGreaterThan(2);
    const [run] = (await runsOf(connection.id)).filter((r) => r.id === message.run_id);
    expect(run).toMatchObject({ status: "retrying", error_code: "provider_throttled" });
    expect(await connectionRow(connection.id)).toMatchObject({
      status: "active",
      consecutive_failures: 0,
      last_error_code: null,
      cooldown_until: null,
    });
    const calls = points.filter((p) => p.blobs?.[0] === "provider_call").map((p) => p.blobs?.[4]);
    expect(calls.filter((o) => o === "ok")).toHaveLength(2);
    expect(calls.at(-1)).toBe("throttled");

    // With the budget back at its default, the retried attempt completes the run.
    expect(await attempt(message, 2)).toEqual({ action: "ack" });
    expect((await runsOf(connection.id)).find((r) => r.id === message.run_id)?.status).toBe("succeeded");
  });

  it("claiming SimpleFIN setup tokens takes nothing from the shared budget: claims to any host cannot starve everyone", async () => {
    const { tokens } = await seededSession();
    // One call an hour for the sandboxes: a claim that took from it would leave the next refused.
    const starved = envWith({
      RATE_LIMITS: JSON.stringify({ provider_sandbox: { burst: 1, refill: 1, per_seconds: 3600 } }),
    });
    for (let i = 0; i < 3; i++) {
      const made = await authed(tokens.access_token, "/api/v1/dev/sandbox/simplefin/setup-token", {
        method: "POST",
        env: starved,
      });
      const { setup_token } = (await made.json()) as { setup_token: string };
      const res = await authed(tokens.access_token, "/api/v1/connections", {
        method: "POST",
        json: { provider: "sandbox_simplefin", setup_token },
        env: starved,
      });
      expect(res.status, await res.clone().text()).toBe(201);
    }
  });
});
