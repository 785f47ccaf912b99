/**
 * Every `last_error` a connection (and `error` a sync run) can carry: one stable code, one
 * message of ours (never a provider's body). What the message promises must be true for the
 * state the code is recorded in: a run that will be retried says so; a dead-lettered one does not.
 */
export const LAST_ERRORS = {
  reauth_required: "The provider refused the stored credentials; reauthorize the connection.",
  reauth_expiring: "The provider's refresh token expires within the hour; reauthorize the connection.",
  reauth_expired: "The provider's refresh token has expired; reauthorize the connection.",
  consent_expired: "The consent given at the bank has ended; reconnect to give it again (your data is kept).",
  provider_throttled: "Our own limit on calls to this provider was reached; the sync waits its turn.",
  provider_quota_exhausted:
    "This connection used its share of the provider's daily calls; it syncs again when one frees up.",
  provider_rate_limited: "The provider is rate limiting requests; the sync waits as long as it asks.",
  provider_unavailable: "The provider failed or timed out; the sync is retried with backoff.",
  provider_payment_required: "The provider requires payment or a plan change before it answers.",
  provider_error: "The provider sent an answer we could not use; nothing was changed.",
  provider_empty_answer: "The provider listed no accounts; nothing was changed or deleted.",
  credentials_unreadable: "This connection's credentials cannot be read; the operators were told.",
  internal_error: "The sync failed unexpectedly; it is retried with backoff.",
  dead_lettered:
    "The sync failed on every retry and was set aside; it runs again at the next scheduled time, or sync now.",
  authorization_denied: "The authorization was not granted at the provider.",
  authorization_failed: "The provider refused the authorization code.",
} as const;

/** The message recorded for a code (unknown codes read as an unexpected failure). */
export const lastErrorMessage = (code: string): string =>
  (LAST_ERRORS as Record<string, string>)[code] ?? LAST_ERRORS.internal_error;
