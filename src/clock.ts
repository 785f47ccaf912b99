/**
 * The one clock. Production reads the system time. Under ENVIRONMENT=test the suite may pin or
 * shift it (`testClock`), so a test moves time instead of sleeping: the Worker, its Durable
 * Objects and the test share one isolate, hence this module.
 */
export type Clock = () => Date;

let pinnedAt: number | null = null;
let shiftMs = 0;

const testNow = () => (pinnedAt ?? Date.now()) + shiftMs;

/** The clock for an environment: the system's, or (tests only) the movable one. */
export function clockFor(environment: string | undefined): Clock {
  return environment === "test" ? () => new Date(testNow()) : () => new Date();
}

/** Epoch ms now, for code that works in numbers (Durable Objects). */
export const nowMs = (environment: string | undefined) => (environment === "test" ? testNow() : Date.now());

/** Test control of the clock (has no effect outside ENVIRONMENT=test). */
export const testClock = {
  /** Stops time at `at` (it stays there until moved or reset). */
  pin(at: Date | number) {
    pinnedAt = typeof at === "number" ? at : at.getTime();
    shiftMs = 0;
  },
  /** Moves time forward (pinned or running). */
  advance(ms: number) {
    shiftMs += ms;
  },
  /** Back to the system time. */
  reset() {
    pinnedAt = null;
    shiftMs = 0;
  },
};
