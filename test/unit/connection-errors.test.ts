import { describe, expect, it } from "vitest";
import type { ConnectionRow } from "../../src/db/connections";
import { statusOf } from "../../src/http/problems";
import {
  MalformedResponseError,
  PaymentRequiredError,
  ProviderRejectedError,
  RateLimitedError,
  ReauthRequiredError,
  TransientProviderError,
} from "../../src/providers/types";
import { providerApiError, providerFailurePatch } from "../../src/services/connections/errors";
import { connectionView } from "../../src/services/connections/view";

const NOW = new Date("2026-11-21T12:00:00Z");
const row = (patch: Partial<ConnectionRow> = {}): ConnectionRow => ({
  id: "con_1",
  userId: "usr_1",
  provider: "schwab",
  alias: null,
  status: "active",
  createdAt: NOW,
  updatedAt: NOW,
  lastSyncedAt: null,
  nextSyncAt: null,
  lastErrorCode: null,
  lastErrorMessage: null,
  lastErrorAt: null,
  consecutiveFailures: 2,
  cooldownUntil: null,
  accessTokenEnc: "v1.k.x.y",
  refreshTokenEnc: "v1.k.x.y",
  credentialsKeyId: "k",
  accessTokenExpiresAt: NOW,
  refreshTokenExpiresAt: new Date(NOW.getTime() + 7 * 86_400_000),
  credentialsUpdatedAt: NOW,
  reauthWarnedAt: null,
  refreshLockUntil: null,
  refreshLockOwner: null,
  syncLockOwner: null,
  syncLockUntil: null,
  lastSyncRequestedAt: null,
  staleReportedAt: null,
  institutionId: null,
  consentExpiresAt: null,
  consentWarnedAt: null,
  providerWarnings: null,
  ...patch,
});

describe("provider failure → connection state", () => {
  it.each([
    [new ReauthRequiredError("x", { status: 400 }), "reauth_required", "reauth_required", 409],
    [new RateLimitedError("x", 30), undefined, "provider_rate_limited", 503],
    [new TransientProviderError("x", { timeout: true }), undefined, "provider_unavailable", 503],
    [new PaymentRequiredError("x"), "error", "provider_payment_required", 502],
    [new MalformedResponseError("x"), "error", "provider_error", 502],
    [new ProviderRejectedError("x", { status: 403 }), "error", "provider_error", 502],
  ])("%s", (err, status, code, httpStatus) => {
    const patch = providerFailurePatch(err, row(), NOW);
    expect(patch.status).toBe(status);
    expect(patch.lastErrorCode).toBe(code);
    expect(patch.lastErrorAt).toEqual(NOW);
    expect(patch.consecutiveFailures).toBe(3);
    expect(patch.lastErrorMessage).not.toContain("x");
    expect(statusOf(providerApiError(err))).toBe(httpStatus);
  });

  it("a 429 cools the connection down for Retry-After, or 60 s when none was given", () => {
    expect(providerFailurePatch(new RateLimitedError("x", 30), row(), NOW).cooldownUntil).toEqual(
      new Date(NOW.getTime() + 30_000),
    );
    expect(providerFailurePatch(new RateLimitedError("x", null), row(), NOW).cooldownUntil).toEqual(
      new Date(NOW.getTime() + 60_000),
    );
    expect(providerApiError(new RateLimitedError("x", 30)).data.retryAfterSeconds).toBe(30);
  });
});

describe("connection view", () => {
  it("renders RFC 3339 times and recommends re-auth inside the warning window", () => {
    const warning = { reauthWarningMs: 48 * 3_600_000, consentWarningMs: 7 * 86_400_000 };
    const fresh = connectionView(row(), NOW, warning);
    expect(fresh).toMatchObject({ reauth_recommended: false, credentials_expire_at: "2026-11-28T12:00:00.000Z" });
    expect(fresh).not.toHaveProperty("accessTokenEnc");
    const soon = row({ refreshTokenExpiresAt: new Date(NOW.getTime() + 3_600_000) });
    expect(connectionView(soon, NOW, warning).reauth_recommended).toBe(true);
    expect(connectionView(row({ status: "reauth_required" }), NOW, warning).reauth_recommended).toBe(true);
    expect(
      connectionView(row({ status: "pending", refreshTokenExpiresAt: null }), NOW, warning).reauth_recommended,
    ).toBe(false);
    // A bank consent: shown, and recommended inside its own (longer) warning window.
    const consent = row({ refreshTokenExpiresAt: null, consentExpiresAt: new Date(NOW.getTime() + 5 * 86_400_000) });
    expect(connectionView(consent, NOW, warning)).toMatchObject({
      reauth_recommended: true,
      consent_expires_at: new Date(NOW.getTime() + 5 * 86_400_000).toISOString(),
      credentials_expire_at: null,
    });
  });
});
