/** Small pieces every simulator uses: abortable waits, day arithmetic, rolling counters. */
import type { MiddlewareHandler } from "hono";
import { BoundedMap } from "../../sandbox/context";

export { BoundedMap };

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const done = (finished: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(finished);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Simulated latency that honours the client's abort signal: an aborted request is answered at
 * once (nobody reads it) instead of holding the isolate.
 */
export function latency(ms: number): MiddlewareHandler {
  return async function simulatedLatency(c, next) {
    const signal = c.req.raw.signal;
    if (signal.aborted || (ms > 0 && !(await sleep(ms, signal)))) return c.body(null, 503);
    await next();
  };
}

/** `YYYY-MM-DD` of an instant, in UTC. */
export const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Midnight UTC of the day holding `ms`. */
export const startOfUtcDay = (ms: number) => Math.floor(ms / DAY) * DAY;

/**
 * A sliding log of events per key (bounded), for "N per window" limits. Per isolate, as the
 * design allows for counters: another isolate counts afresh.
 */
export class RollingLog {
  private readonly logs: BoundedMap<number[]>;
  constructor(max = 10_000) {
    this.logs = new BoundedMap(max);
  }
  /** Events of `key` inside `[now - windowMs, now]`, oldest first. */
  within(key: string, now: number, windowMs: number): number[] {
    const kept = (this.logs.get(key) ?? []).filter((t) => t > now - windowMs);
    this.logs.set(key, kept);
    return kept;
  }
  add(key: string, now: number): void {
    this.logs.set(key, [...(this.logs.get(key) ?? []), now]);
  }
}
