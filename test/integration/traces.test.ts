/**
 * W3C Trace Context (issue 23): a trace taken from `traceparent` (or started) follows the work
 * through queue messages, the consumer, the user's home, log lines and audit rows, so one search
 * by `trace_id` follows a sync from the cron tick (or the request) to the row it wrote.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loggedInAdmin } from "../support/admin";
import { connectSandbox } from "../support/connections";
import { call } from "../support/http";
import { authed } from "../support/identity";
import { seededSession } from "../support/seed";
import { runSyncCron, settled } from "../support/sync";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

/** Every JSON log line the Worker (and the homes, in this same isolate) wrote while `work` ran. */
async function logsOf(work: () => Promise<unknown>) {
  const lines: Record<string, unknown>[] = [];
  const keep = (...args: unknown[]) => {
    for (const a of args) {
      if (typeof a !== "string" || !a.startsWith("{")) continue;
      try {
        lines.push(JSON.parse(a) as Record<string, unknown>);
      } catch {}
    }
  };
  const spies = [
    vi.spyOn(console, "log").mockImplementation(keep),
    vi.spyOn(console, "warn").mockImplementation(keep),
    vi.spyOn(console, "error").mockImplementation(keep),
  ];
  try {
    await work();
  } finally {
    for (const s of spies) s.mockRestore();
  }
  return lines;
}

afterEach(() => vi.restoreAllMocks());

describe("traces", () => {
  it("continues an incoming traceparent: log lines and audit rows carry its trace id", async () => {
    const { tokens } = await seededSession();
    const lines = await logsOf(async () => {
      const res = await authed(tokens.access_token, "/api/v1/connections", {
        method: "POST",
        json: { provider: "nope" },
        headers: { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` },
      });
      expect(res.status).toBe(422);
    });
    expect(lines.some((l) => l.msg === "request" && l.trace_id === TRACE)).toBe(true);
    // A malformed traceparent starts a fresh trace rather than being trusted.
    const other = await logsOf(() =>
      call("/api/v1/auth/login", { method: "POST", json: {}, headers: { traceparent: "00-zz-yy-01" } }),
    );
    const ids = other.map((l) => l.trace_id).filter(Boolean);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(ids).not.toContain("zz");
  });

  it("a manual sync: the request's trace is the run's, its audit rows' and the home's log lines'", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token, { scenario: "revoked" });
    const lines = await logsOf(async () => {
      const res = await authed(tokens.access_token, `/api/v1/connections/${connection.id}/sync`, {
        method: "POST",
        headers: { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` },
      });
      expect(res.status).toBe(202);
      await settled(connection.id);
    });
    const run = await settled(connection.id);
    expect((run as unknown as { trace_id: string }).trace_id).toBe(TRACE);
    const { syncs } = (await (
      await authed(tokens.access_token, `/api/v1/connections/${connection.id}/syncs`)
    ).json()) as {
      syncs: { trace_id: string | null }[];
    };
    expect(syncs[0]?.trace_id).toBe(TRACE);
    const audit = await env.DB.prepare(
      "SELECT action FROM audit_events WHERE trace_id = ? AND json_extract(details, '$.connection_id') = ? ORDER BY occurred_at",
    )
      .bind(TRACE, connection.id)
      .all<{ action: string }>();
    // The request's row, and the consumer's rows of the failed run (revoked: reauth required).
    expect(audit.results.map((r) => r.action)).toEqual(
      expect.arrayContaining(["sync.requested", "connection.reauth_required", "sync.failed"]),
    );
    // An operator reaches the same rows through the admin API, by the trace alone.
    const admin = await loggedInAdmin();
    const byTrace = (await (
      await authed(admin.tokens.access_token, `/api/v1/admin/audit-events?trace_id=${TRACE}&limit=200`)
    ).json()) as { events: { action: string; trace_id: string }[] };
    expect(byTrace.events.map((e) => e.action)).toEqual(expect.arrayContaining(["sync.requested", "sync.failed"]));
    expect(byTrace.events.every((e) => e.trace_id === TRACE)).toBe(true);
    const malformed = await authed(admin.tokens.access_token, "/api/v1/admin/audit-events?trace_id=zz");
    expect(malformed.status).toBe(422);
    // The consumer's and the home's lines of the run carry the same trace.
    const traced = lines.filter((l) => l.trace_id === TRACE).map((l) => String(l.msg));
    expect(traced).toEqual(expect.arrayContaining(["sync begin: started", "sync failed", "sync attempt failed"]));
  });

  it("a scheduled sync: the cron tick's trace reaches the run, the consumer and the home", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    const lines = await logsOf(async () => {
      await runSyncCron();
      await settled(connection.id);
    });
    const tick = lines.find((l) => l.msg === "sync schedule");
    const traceId = tick?.trace_id as string;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const run = (await settled(connection.id)) as unknown as { trace_id: string; status: string };
    expect(run).toMatchObject({ status: "succeeded", trace_id: traceId });
    const steps = lines.filter((l) => l.trace_id === traceId).map((l) => String(l.msg));
    expect(steps).toEqual(expect.arrayContaining(["sync schedule", "sync begin: started", "sync complete: applied"]));
  });
});
