import { describe, expect, it } from "vitest";
import { take } from "../../src/durable/bucket";

// 5 tokens, refilled at 5 per 60 s: one token every 12 s.
const rule = { burst: 5, refill: 5, perSeconds: 60 };
const T0 = 1_800_000_000_000;

/** Takes `n` tokens at `at`, threading the bucket; returns the last decision. */
function drain(n: number, at = T0) {
  let bucket: ReturnType<typeof take>["bucket"] | undefined;
  let last!: ReturnType<typeof take>["decision"];
  for (let i = 0; i < n; i++) ({ bucket, decision: last } = take(rule, bucket, at));
  return { bucket: bucket as NonNullable<typeof bucket>, last };
}

describe("token bucket (src/durable/bucket.ts)", () => {
  it("a fresh bucket allows a burst and reports what is left and when it is full again", () => {
    const first = take(rule, undefined, T0).decision;
    expect(first).toEqual({ allowed: true, remaining: 4, resetSeconds: 12, retryAfterSeconds: 0 });
    const { last } = drain(5);
    expect(last).toEqual({ allowed: true, remaining: 0, resetSeconds: 60, retryAfterSeconds: 0 });
  });

  it("refuses when empty, with Retry-After the wait for one whole token", () => {
    const { bucket } = drain(5);
    const refused = take(rule, bucket, T0).decision;
    expect(refused).toEqual({ allowed: false, remaining: 0, resetSeconds: 60, retryAfterSeconds: 12 });
    // 3 s later one token is 9 s away; a refusal does not consume anything.
    const later = take(rule, take(rule, bucket, T0).bucket, T0 + 3_000).decision;
    expect(later).toMatchObject({ allowed: false, retryAfterSeconds: 9 });
  });

  it("refills continuously and never beyond the burst", () => {
    const { bucket } = drain(5);
    expect(take(rule, bucket, T0 + 11_999).decision.allowed).toBe(false);
    const oneBack = take(rule, bucket, T0 + 12_000);
    expect(oneBack.decision).toMatchObject({ allowed: true, remaining: 0 });
    const rested = take(rule, bucket, T0 + 3_600_000).decision;
    expect(rested).toMatchObject({ allowed: true, remaining: 4, resetSeconds: 12 });
  });

  it("Retry-After is at least one second, even when a token is a millisecond away", () => {
    const { bucket } = drain(5);
    expect(take(rule, bucket, T0 + 11_999).decision.retryAfterSeconds).toBe(1);
  });

  it("a clock that runs backwards does not mint tokens", () => {
    const { bucket } = drain(5);
    expect(take(rule, bucket, T0 - 60_000).decision.allowed).toBe(false);
  });
});
