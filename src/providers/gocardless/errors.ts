/**
 * How GoCardless failures map to provider errors (docs/providers/gocardless.md "Errors"): the
 * body is `{summary, detail, status_code, type?}` but may be anything, so this reads the raw text
 * and the headers, never assuming JSON.
 */
import { type FailedAnswer, parseRetryAfter } from "../http";
import { type ProviderError, ProviderRejectedError, RateLimitedError, ReauthRequiredError } from "../types";

/**
 * The app's own token or secrets were refused (401 "Invalid token", "Authentication failed").
 * Never the user's consent: the adapter gets a fresh token and tries once more.
 */
export class AppTokenRefusedError extends ProviderRejectedError {}

// Consent over, in any of the forms seen (400, 401 or 403): match the text, not the status.
const CONSENT_EXPIRED =
  /AccessExpiredError|access has expired|No valid End User Agreement|(?:EUA|End User Agreement)[^{}]{0,160}expired/i;
const ACCOUNT_LEVEL_429 = /RateLimitError|Daily request limit|Couldn't update account/i;

/** A rate-limit header in either spelling (`http_x_ratelimit_*` as documented, or `x-ratelimit-*`). */
export function rateHeader(headers: Headers, name: string): number | null {
  for (const key of [`http_x_ratelimit_${name}`, `x-ratelimit-${name.replace(/_/g, "-")}`]) {
    const v = headers.get(key)?.trim();
    if (v && /^\d+$/.test(v)) return Number(v);
  }
  return null;
}

/** "Please try again in 85092 seconds" → 85092. */
export function tryAgainIn(text: string): number | null {
  const m = /try again in (\d{1,9}) seconds?/i.exec(text);
  return m ? Number(m[1]) : null;
}

/** GoCardless's reading of a failed answer; null leaves it to the status table. */
export function classifyGoCardless(a: FailedAnswer): ProviderError | null {
  const { status, text, info } = a;
  if (status === 429) {
    const account = ACCOUNT_LEVEL_429.test(text);
    const retry =
      parseRetryAfter(a.headers.get("Retry-After"), a.now) ??
      (account ? rateHeader(a.headers, "account_success_reset") : rateHeader(a.headers, "reset")) ??
      tryAgainIn(text);
    return new RateLimitedError(a.message, retry, { ...info, reason: account ? "daily_quota" : "burst" });
  }
  if ((status === 400 || status === 401 || status === 403) && CONSENT_EXPIRED.test(text)) {
    return new ReauthRequiredError(`${a.label}: consent expired (HTTP ${status})`, {
      ...info,
      detail: `consent_expired: ${a.detail}`,
    });
  }
  if (status === 401 && /Invalid token|Token is invalid or expired|Authentication failed/i.test(text)) {
    return new AppTokenRefusedError(a.message, info);
  }
  if (status === 409 && /suspended/i.test(text)) {
    return new ReauthRequiredError(a.message, { ...info, detail: `account_suspended: ${a.detail}` });
  }
  return null;
}
