/** One dependency check as /health/ready reports it. */
export interface CheckResult {
  status: "ok" | "fail";
  latency_ms: number;
  error?: string;
}

export type Check = () => Promise<void>;

const TIMEOUT_MS = 2000;

async function run(check: Check): Promise<CheckResult> {
  const started = performance.now();
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${TIMEOUT_MS} ms`)), TIMEOUT_MS)),
    ]);
    return { status: "ok", latency_ms: Math.round(performance.now() - started) };
  } catch (err) {
    return {
      status: "fail",
      latency_ms: Math.round(performance.now() - started),
      error: err instanceof Error ? err.name : "error",
    };
  }
}

/** Runs every check concurrently; the whole is ok only when each part is. */
export async function readiness<K extends string>(checks: Record<K, Check>) {
  const names = Object.keys(checks) as K[];
  const results = await Promise.all(names.map((n) => run(checks[n])));
  const out = Object.fromEntries(names.map((n, i) => [n, results[i]])) as Record<K, CheckResult>;
  const ok = results.every((r) => r.status === "ok");
  return { status: ok ? ("ok" as const) : ("fail" as const), checks: out };
}
