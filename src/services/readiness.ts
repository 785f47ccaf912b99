/**
 * Readiness (GET /health/ready): each dependency with its status and latency. What makes the API
 * unusable (its config, D1, the homes, the Limiter) fails it with 503; what it can do without for
 * a while (a queue: the homes resend runs, D1 keeps emails; the email transport; a provider) only
 * degrades it. Providers and the transport are never called by a probe: their last hour of real
 * outcomes is read from D1 (src/db/outcomes.ts). docs/contract.md "System" says what each means to
 * whoever is on call.
 */
import type { Db } from "../db/client";
import { recentOutcomes } from "../db/outcomes";

/** One dependency as /health/ready reports it. */
export interface CheckResult {
  status: "ok" | "degraded" | "fail";
  latency_ms: number;
  error?: string;
  details?: Record<string, unknown>;
}

/** A check: resolves (ok), resolves with a degraded finding, or throws (failed). */
// biome-ignore lint/suspicious/noConfusingVoidType: a check with nothing to report resolves with nothing.
export type Check = () => Promise<void | { status: "ok" | "degraded"; details?: Record<string, unknown> }>;

const TIMEOUT_MS = 2000;

async function run(check: Check, failure: "fail" | "degraded"): Promise<CheckResult> {
  const started = performance.now();
  try {
    const found = await Promise.race([
      check(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`timed out after ${TIMEOUT_MS} ms`)), TIMEOUT_MS),
      ),
    ]);
    const latency_ms = Math.round(performance.now() - started);
    return found
      ? { status: found.status, latency_ms, ...(found.details ? { details: found.details } : {}) }
      : { status: "ok", latency_ms };
  } catch (err) {
    return {
      status: failure,
      latency_ms: Math.round(performance.now() - started),
      error: err instanceof Error ? err.name : "error",
    };
  }
}

/**
 * Runs every check concurrently. `fatal` checks fail the whole (503); `degrading` ones, when
 * they fail or find trouble, only degrade it (200).
 */
export async function readiness<F extends string, D extends string>(
  fatal: Record<F, Check>,
  degrading: Record<D, Check>,
) {
  const entries = [
    ...Object.entries<Check>(fatal).map(([name, check]) => [name, check, "fail"] as const),
    ...Object.entries<Check>(degrading).map(([name, check]) => [name, check, "degraded"] as const),
  ];
  const results = await Promise.all(entries.map(([, check, failure]) => run(check, failure)));
  const checks = Object.fromEntries(entries.map(([name], i) => [name, results[i]])) as Record<F | D, CheckResult>;
  const status = results.some((r) => r.status === "fail")
    ? ("fail" as const)
    : results.some((r) => r.status === "degraded")
      ? ("degraded" as const)
      : ("ok" as const);
  return { status, checks };
}

/** Below this share of successes, over at least MIN_OUTCOMES, a dependency is degraded. */
const HEALTHY_RATE = 0.5;
const MIN_OUTCOMES = 3;
const HOUR = 3_600_000;

/**
 * The last hour (the current and the previous clock hour) of the dependencies' real outcomes, read
 * in one query: `of(subject)` answers one's counts, success rate and the class of its latest
 * failure, degraded when most of them failed.
 */
export async function recentHealth(db: Db, subjects: string[], now: Date) {
  const rows = await recentOutcomes(db, subjects, new Date(now.getTime() - HOUR));
  return { of: (subject: string) => healthOf(rows.filter((r) => r.subject === subject)) };
}

function healthOf(rows: Awaited<ReturnType<typeof recentOutcomes>>) {
  const ok = rows.reduce((n, r) => n + r.ok, 0);
  const failed = rows.reduce((n, r) => n + r.failed, 0);
  const latest = rows
    .filter((r) => r.lastErrorAt)
    .sort((a, b) => (b.lastErrorAt?.getTime() ?? 0) - (a.lastErrorAt?.getTime() ?? 0))[0];
  const rate = ok + failed === 0 ? null : Math.round((ok / (ok + failed)) * 1000) / 1000;
  const status = rate !== null && ok + failed >= MIN_OUTCOMES && rate < HEALTHY_RATE ? "degraded" : "ok";
  return {
    status: status as "ok" | "degraded",
    details: {
      succeeded: ok,
      failed,
      success_rate: rate,
      last_error_class: latest?.lastError ?? null,
      last_error_at: latest?.lastErrorAt?.toISOString() ?? null,
    },
  };
}
