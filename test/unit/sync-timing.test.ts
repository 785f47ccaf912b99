import { describe, expect, it } from "vitest";
import { DomainError, fail } from "../../src/errors";
import { encodeFeedCursor } from "../../src/home/ledger/feed";
import {
  MalformedResponseError,
  PaymentRequiredError,
  RateLimitedError,
  ReauthRequiredError,
  TransientProviderError,
} from "../../src/providers/types";
import { providerApiError } from "../../src/services/connections/errors";
import { decodeFeedCursor } from "../../src/services/data/feed";
import { buildSyncConfig, cadenceOf } from "../../src/services/sync/config";
import { classifyFailure, EmptyAnswerError } from "../../src/services/sync/failures";
import { backoffSeconds, nextAfterSuccess, retryAfterDelay, runHorizon } from "../../src/services/sync/timing";

const retry = { baseSeconds: 5, capSeconds: 300, maxAttempts: 5 };

describe("full-jitter backoff", () => {
  it("waits random(0, min(cap, base × 2^(n-1))) whole seconds", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffSeconds(n, retry, () => 0.999999))).toEqual([
      5, 10, 20, 40, 80, 160, 300, 300,
    ]);
    expect(backoffSeconds(3, retry, () => 0)).toBe(0);
    for (let i = 0; i < 200; i++) {
      const d = backoffSeconds(4, retry, Math.random);
      expect(Number.isInteger(d) && d >= 0 && d <= 40).toBe(true);
    }
  });

  it("honours Retry-After within what Queues can delay (12 hours)", () => {
    expect(retryAfterDelay(2)).toBe(2);
    expect(retryAfterDelay(0)).toBe(1);
    expect(retryAfterDelay(1.2)).toBe(2);
    expect(retryAfterDelay(10 ** 9)).toBe(43_200);
  });

  it("a run's horizon covers all its attempts", () => {
    const config = buildSyncConfig({
      SYNC_DISABLED: false,
      SYNC_INTERVAL_MINUTES: 240,
      SYNC_RETRY_BASE_SECONDS: 5,
      SYNC_RETRY_CAP_SECONDS: 300,
      SYNC_MAX_ATTEMPTS: 5,
      SYNC_COOLDOWN_AFTER_FAILURES: 3,
      SYNC_COOLDOWN_MINUTES: 30,
      SYNC_PAYMENT_COOLDOWN_HOURS: 24,
      SYNC_MANUAL_MIN_INTERVAL_SECONDS: 300,
      SYNC_HISTORY_DAYS: 730,
      SYNC_OVERLAP_DAYS: 7,
      SYNC_STALE_HOURS: 48,
      SYNC_PENDING_STALE_DAYS: 10,
      SYNC_INTERVAL_MINUTES_GOCARDLESS: 480,
      SYNC_INTERVAL_MINUTES_SIMPLEFIN: 360,
      GOCARDLESS_DAILY_CALLS: 4,
      SIMPLEFIN_DAILY_REQUESTS: 24,
    });
    const now = new Date(0);
    expect(runHorizon(now, config).getTime()).toBeGreaterThanOrEqual(5 * 300_000);
    // Each provider's cadence; a sandbox follows its twin; providers without one use the default.
    const at = (p: string) => nextAfterSuccess(now, config, () => 0.5, p).getTime();
    expect([at("schwab"), at("sandbox_alpaca"), at("sandbox_gocardless"), at("simplefin")]).toEqual([
      240 * 60_000,
      240 * 60_000,
      480 * 60_000,
      360 * 60_000,
    ]);
    expect(cadenceOf(config, "gocardless").quota).toEqual({ limit: 4, windowMs: 86_400_000 });
    expect(cadenceOf(config, "sandbox").quota).toBeNull();
  });
});

describe("failure classification", () => {
  it("maps provider failures to what the sync does next", () => {
    expect(classifyFailure(new TransientProviderError("x"))).toMatchObject({
      kind: "retry",
      code: "provider_unavailable",
    });
    expect(classifyFailure(new RateLimitedError("x", 7))).toMatchObject({
      kind: "retry",
      code: "provider_rate_limited",
      retryAfterSeconds: 7,
    });
    expect(classifyFailure(new ReauthRequiredError("x"))).toMatchObject({ kind: "reauth", audited: false });
    expect(classifyFailure(new PaymentRequiredError("x"))).toMatchObject({ kind: "payment" });
    expect(classifyFailure(new MalformedResponseError("x"))).toMatchObject({ kind: "fatal", code: "provider_error" });
    expect(classifyFailure(new EmptyAnswerError("x"))).toMatchObject({ kind: "fatal", code: "provider_empty_answer" });
    expect(classifyFailure(new Error("bug"))).toMatchObject({ kind: "retry", code: "internal_error" });
  });

  it("knows a refresh failure was already recorded (no second reauth audit)", () => {
    const fromRefresh = providerApiError(new ReauthRequiredError("refresh refused"));
    expect(classifyFailure(fromRefresh)).toMatchObject({ kind: "reauth", audited: true });
    expect(classifyFailure(fail("reauth_required", "x"))).toMatchObject({ kind: "reauth", audited: true });
    const busy = fail("provider_unavailable", "x", { retryAfterSeconds: 5 });
    expect(classifyFailure(busy)).toMatchObject({ kind: "retry", retryAfterSeconds: 5 });
  });
});

describe("change-feed cursors", () => {
  it("round-trip, and anything else is refused", () => {
    expect(decodeFeedCursor(undefined)).toBe(0);
    expect(decodeFeedCursor(encodeFeedCursor(12345))).toBe(12345);
    for (const bad of ["x", "f1.", "f1.!!", `f1.${btoa("-1")}`, `f1.${btoa("1e5")}`]) {
      expect(() => decodeFeedCursor(bad), bad).toThrow(DomainError);
    }
  });
});
