/**
 * Development-only time travel for the in-process sandbox: an offset added to the real clock.
 * The sandbox is time-driven (new transactions, pending → posted, token expiry; see
 * ./sandbox/index.ts), so moving this clock makes those happen now. Per isolate, in memory:
 * enough for `wrangler dev` and the tests, never used in production (no sandbox there).
 */
let offsetMs = 0;

/** The sandbox's current time. */
export const sandboxNow = () => new Date(Date.now() + offsetMs);

/** The current offset, in milliseconds. */
export const sandboxOffsetMs = () => offsetMs;

/** Moves the sandbox clock forward by `ms` (never backward: tokens already issued stay consistent). */
export function advanceSandboxClock(ms: number) {
  if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError("the sandbox clock only moves forward");
  offsetMs += ms;
}

/** Back to real time. */
export function resetSandboxClock() {
  offsetMs = 0;
}
