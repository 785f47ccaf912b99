import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { DomainError } from "../../src/errors";
import { statusOf } from "../../src/http/problems";
import { createProviderRegistry } from "../../src/providers/registry";
import { SCENARIOS } from "../../src/providers/sandbox/scenarios";
import type { ConnectionDeps } from "../../src/services/connections/deps";
import { freshAccessToken } from "../../src/services/connections/token-refresh";
import {
  ageAccessToken,
  auditFor,
  type ConnectionJson,
  connectSandbox,
  devRefresh,
  rawConnection,
} from "../support/connections";
import { testDeps } from "../support/deps";
import { problem } from "../support/http";
import { authed } from "../support/identity";
import { seededSession } from "../support/seed";

interface RefreshAnswer {
  connection: ConnectionJson;
  refreshed: boolean;
  refresh_token: "rotated" | "same" | "absent" | null;
}

/** Service deps over the test D1, with a fetch hook in front of the in-process sandbox. */
async function depsWith(
  hook: (req: Request, next: typeof fetch) => Promise<Response>,
  vars: Record<string, string> = {},
): Promise<ConnectionDeps> {
  const config = await parseConfig({ ...env, ...vars });
  return testDeps({
    config,
    providers: createProviderRegistry(config, {
      wrapFetch: (next) => (input, init) => hook(new Request(input, init), next),
    }),
  });
}

const isRefreshGrant = async (req: Request) =>
  req.url.endsWith("/v1/oauth/token") &&
  new URLSearchParams(new TextDecoder().decode(await req.clone().arrayBuffer())).get("grant_type") === "refresh_token";

/** Counts refresh grants that reach the sandbox. */
async function countingDeps() {
  const counter = { refreshes: 0 };
  const deps = await depsWith(async (req, next) => {
    if (await isRefreshGrant(req)) counter.refreshes++;
    return next(req);
  });
  return { deps, counter };
}

/** Answers the refresh grant with a canned response instead of the sandbox. */
const cannedRefresh = (make: () => Response | Promise<Response>, vars?: Record<string, string>) =>
  depsWith(async (req, next) => ((await isRefreshGrant(req)) ? make() : next(req)), vars);

async function rejectionOf(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return err as DomainError;
  }
  throw new Error("expected a DomainError");
}

const connectionOf = async (token: string, id: string) =>
  (await (await authed(token, `/api/v1/connections/${id}`)).json()) as ConnectionJson;

describe("refreshing provider access tokens near expiry", () => {
  it("does nothing while the access token is fresh", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    const res = await devRefresh(tokens.access_token, connection.id);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ refreshed: false, refresh_token: null });
    expect(await auditFor("connection.token_refreshed", connection.id)).toHaveLength(0);
  });

  it("refreshes near expiry, stores the new tokens encrypted, and audits what the refresh token did", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    const before = (await rawConnection(connection.id)) as Record<string, string | number>;
    await ageAccessToken(connection.id);
    const res = await devRefresh(tokens.access_token, connection.id);
    expect(res.status).toBe(200);
    const body = (await res.json()) as RefreshAnswer;
    expect(body).toMatchObject({ refreshed: true, refresh_token: "same", connection: { status: "active" } });
    const after = (await rawConnection(connection.id)) as Record<string, string | number | null>;
    expect(after.access_token_enc).not.toBe(before.access_token_enc);
    // Same refresh-token string from Schwab, re-encrypted with a fresh IV.
    expect(after.refresh_token_enc).not.toBe(before.refresh_token_enc);
    expect(Number(after.access_token_expires_at)).toBeGreaterThan(Date.now() + 29 * 60_000);
    // Refreshing does not extend Schwab's 7-day refresh token.
    expect(after.refresh_token_expires_at).toBe(before.refresh_token_expires_at);
    expect(after.refresh_lock_owner).toBeNull();
    const [audit] = await auditFor("connection.token_refreshed", connection.id);
    expect(audit).toMatchObject({ outcome: "success", user_id: tokens.user.id });
    expect(audit?.details).toMatchObject({ refresh_token: "same", provider: "sandbox" });
  });

  it("records a rotated refresh token (sandbox `rotating`)", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token, { scenario: "rotating" });
    const res = await devRefresh(tokens.access_token, connection.id, true);
    expect(await res.json()).toMatchObject({ refreshed: true, refresh_token: "rotated" });
    // The rotated token was stored: refreshing again works.
    expect(await (await devRefresh(tokens.access_token, connection.id, true)).json()).toMatchObject({
      refresh_token: "rotated",
    });
    const outcomes = (await auditFor("connection.token_refreshed", connection.id)).map((a) => a.details.refresh_token);
    expect(outcomes).toEqual(["rotated", "rotated"]);
  });

  it("records an absent refresh token and keeps the stored one", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    const deps = await depsWith(async (req, next) => {
      const res = await next(req);
      if (!req.url.endsWith("/v1/oauth/token")) return res;
      const { refresh_token: _dropped, ...rest } = (await res.json()) as Record<string, unknown>;
      return Response.json(rest);
    });
    const result = await freshAccessToken(deps, null, connection.id, { force: true });
    expect(result.refreshed).toBe("absent");
    const [audit] = await auditFor("connection.token_refreshed", connection.id);
    expect(audit?.details.refresh_token).toBe("absent");
    // The kept refresh token still works with the real sandbox.
    expect((await devRefresh(tokens.access_token, connection.id, true)).status).toBe(200);
  });
});

describe("one refresh at a time per connection", () => {
  it("parallel requests through the Worker share one provider refresh", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    await ageAccessToken(connection.id);
    const answers = await Promise.all(Array.from({ length: 6 }, () => devRefresh(tokens.access_token, connection.id)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as RefreshAnswer[];
    expect(bodies.filter((b) => b.refreshed)).toHaveLength(1);
    expect(await auditFor("connection.token_refreshed", connection.id)).toHaveLength(1);
  });

  it("parallel service calls make exactly one refresh request to the provider and get the same token", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    await ageAccessToken(connection.id);
    const { deps, counter } = await countingDeps();
    let waits = 0;
    deps.sleep = (ms) => {
      waits++;
      return new Promise((r) => setTimeout(r, ms));
    };
    const results = await Promise.all(
      Array.from({ length: 8 }, () => freshAccessToken(deps, null, connection.id, { userId: tokens.user.id })),
    );
    expect(counter.refreshes).toBe(1);
    // The others really did find the lease taken and wait for it.
    expect(waits).toBeGreaterThan(0);
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
    expect(results.filter((r) => r.refreshed !== null)).toHaveLength(1);
    // Now fresh: no further provider call.
    await freshAccessToken(deps, null, connection.id);
    expect(counter.refreshes).toBe(1);
  });

  it("takes over a stale lease left by a crashed refresher", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    await ageAccessToken(connection.id);
    await env.DB.prepare("UPDATE connections SET refresh_lock_owner = 'ghost', refresh_lock_until = ? WHERE id = ?")
      .bind(Date.now() - 1000, connection.id)
      .run();
    const { deps, counter } = await countingDeps();
    const result = await freshAccessToken(deps, null, connection.id);
    expect(result.refreshed).toBe("same");
    expect(counter.refreshes).toBe(1);
  });
});

describe("provider failures at refresh time map to connection states", () => {
  it("revoked refresh token → reauth_required, audited, and no further provider calls", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token, { scenario: "revoked" });
    expect(connection.status).toBe("active");
    await ageAccessToken(connection.id);
    const res = await devRefresh(tokens.access_token, connection.id);
    expect(res.status).toBe(409);
    expect((await problem(res)).code).toBe("reauth_required");
    const now = await connectionOf(tokens.access_token, connection.id);
    expect(now).toMatchObject({
      status: "reauth_required",
      last_error: { code: "reauth_required" },
      consecutive_failures: 1,
      reauth_recommended: true,
    });
    const [failed] = await auditFor("connection.token_refresh_failed", connection.id);
    expect(failed?.details).toMatchObject({ kind: "reauth_required", http_status: 400 });
    expect(JSON.stringify(failed?.details)).not.toMatch(/R0\.|I0\./);
    expect((await auditFor("connection.reauth_required", connection.id))[0]?.details.reason).toBe("refresh_refused");

    const { deps, counter } = await countingDeps();
    const again = await rejectionOf(freshAccessToken(deps, null, connection.id));
    expect(again.code).toBe("reauth_required");
    expect(counter.refreshes).toBe(0);
  });

  it("every sandbox scenario connects, and its refresh lands in the right state", { timeout: 60_000 }, async () => {
    const expected: Record<string, { status: number; state: string; outcome?: string }> = {
      revoked: { status: 409, state: "reauth_required" },
      rotating: { status: 200, state: "active", outcome: "rotated" },
    };
    for (const scenario of SCENARIOS) {
      // A user per scenario keeps each under the per-user connect rate limit.
      const { tokens } = await seededSession(scenario);
      const connection = await connectSandbox(tokens.access_token, { scenario });
      expect(connection.status, scenario).toBe("active");
      const res = await devRefresh(tokens.access_token, connection.id, true);
      const want = expected[scenario] ?? { status: 200, state: "active", outcome: "same" };
      expect(res.status, scenario).toBe(want.status);
      if (want.outcome) expect(((await res.json()) as RefreshAnswer).refresh_token, scenario).toBe(want.outcome);
      expect((await connectionOf(tokens.access_token, connection.id)).status, scenario).toBe(want.state);
      // Trader-call faults (flaky, slow, rate_limited, payment_required, malformed...) apply at sync time.
    }
  });

  it("maps each failure kind: status, last_error, failures, cooldown", { timeout: 30_000 }, async () => {
    const cases: {
      name: string;
      respond: () => Response | Promise<Response>;
      api: [number, string];
      status: string;
      code: string;
      cooldown?: number;
    }[] = [
      {
        name: "5xx",
        respond: () => Response.json({ message: "Internal Server Error" }, { status: 500 }),
        api: [503, "provider_unavailable"],
        status: "active",
        code: "provider_unavailable",
      },
      {
        name: "429 with Retry-After",
        respond: () => Response.json({ errors: [] }, { status: 429, headers: { "Retry-After": "120" } }),
        api: [503, "provider_unavailable"],
        status: "active",
        code: "provider_rate_limited",
        cooldown: 120,
      },
      {
        name: "402",
        respond: () => Response.json({ fault: { faultstring: "Payment Required" } }, { status: 402 }),
        api: [502, "provider_error"],
        status: "error",
        code: "provider_payment_required",
      },
      {
        name: "HTML instead of JSON",
        respond: () =>
          new Response("<html><title>Access Denied</title></html>", { headers: { "Content-Type": "text/html" } }),
        api: [502, "provider_error"],
        status: "error",
        code: "provider_error",
      },
      {
        name: "403",
        respond: () => Response.json({ message: "Forbidden" }, { status: 403 }),
        api: [502, "provider_error"],
        status: "error",
        code: "provider_error",
      },
      {
        name: "401",
        respond: () => Response.json({ error: "invalid_client" }, { status: 401 }),
        api: [409, "reauth_required"],
        status: "reauth_required",
        code: "reauth_required",
      },
    ];
    for (const c of cases) {
      const { tokens } = await seededSession();
      const connection = await connectSandbox(tokens.access_token);
      const before = await rawConnection(connection.id);
      const deps = await cannedRefresh(c.respond);
      const started = Date.now();
      const err = await rejectionOf(freshAccessToken(deps, null, connection.id, { force: true }));
      expect([statusOf(err), err.code], c.name).toEqual(c.api);
      const now = await connectionOf(tokens.access_token, connection.id);
      expect(now.status, c.name).toBe(c.status);
      expect(now.last_error?.code, c.name).toBe(c.code);
      expect(now.consecutive_failures, c.name).toBe(1);
      if (c.cooldown) {
        const until = Date.parse(now.cooldown_until as string);
        expect(until, c.name).toBeGreaterThanOrEqual(started + c.cooldown * 1000 - 1000);
      }
      // The credentials are untouched and the lease released.
      const after = await rawConnection(connection.id);
      expect(after?.access_token_enc, c.name).toBe(before?.access_token_enc);
      expect(after?.refresh_lock_owner, c.name).toBeNull();
      expect((await auditFor("connection.token_refresh_failed", connection.id)).length, c.name).toBe(1);
    }
  });

  it("a provider that does not answer in time is transient (timeout)", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    const deps = await cannedRefresh(() => new Promise<Response>(() => {}), {
      PROVIDER_CONNECT_TIMEOUT_MS: "100",
      PROVIDER_TIMEOUT_MS: "1000",
    });
    const err = await rejectionOf(freshAccessToken(deps, null, connection.id, { force: true }));
    expect(err.code).toBe("provider_unavailable");
    const [failed] = await auditFor("connection.token_refresh_failed", connection.id);
    expect(failed?.details).toMatchObject({ kind: "transient", http_status: null });
    expect((await connectionOf(tokens.access_token, connection.id)).status).toBe("active");
  });

  it("an expired refresh token → reauth_required without asking the provider", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    await env.DB.prepare(
      "UPDATE connections SET refresh_token_expires_at = ?, access_token_expires_at = ? WHERE id = ?",
    )
      .bind(Date.now() - 1000, Date.now() - 1000, connection.id)
      .run();
    const { deps, counter } = await countingDeps();
    const err = await rejectionOf(freshAccessToken(deps, null, connection.id));
    expect(err.code).toBe("reauth_required");
    expect(counter.refreshes).toBe(0);
    expect((await connectionOf(tokens.access_token, connection.id)).status).toBe("reauth_required");
    expect((await auditFor("connection.reauth_required", connection.id))[0]?.details.reason).toBe(
      "refresh_token_expired",
    );
  });

  it("a pending connection has nothing to refresh (409 connection_not_ready)", async () => {
    const { tokens } = await seededSession();
    const res = await authed(tokens.access_token, "/api/v1/connections", {
      method: "POST",
      json: { provider: "sandbox" },
    });
    const { connection } = (await res.json()) as { connection: ConnectionJson };
    const refresh = await devRefresh(tokens.access_token, connection.id, true);
    expect(refresh.status).toBe(409);
    expect((await problem(refresh)).code).toBe("connection_not_ready");
  });
});
