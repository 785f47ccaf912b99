import type { z } from "zod";
import type { ConnectionRow } from "../../db/connections";
import type { ProvidersConfig } from "../../providers/config";
import type { Connection } from "../../wire/connections";

/** The wire shape of a connection (src/wire/connections.ts). */
export type ConnectionView = z.infer<typeof Connection>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const within = (d: Date | null, now: Date, ms: number) => d !== null && d.getTime() - now.getTime() < ms;

/**
 * Renders a row. `reauth_recommended` is true once the provider's refresh token is within the
 * reauth warning (Schwab: 7 days after the login, not renewable) or the consent within the
 * consent warning (GoCardless: the agreement's days), or the connection already needs re-auth.
 */
export function connectionView(
  row: ConnectionRow,
  now: Date,
  providers: Pick<ProvidersConfig, "reauthWarningMs" | "consentWarningMs">,
): ConnectionView {
  const expires = row.refreshTokenExpiresAt;
  // Schwab's consent is its refresh token's life, warned about at the reauth lead.
  const consent = row.consentExpiresAt ?? expires;
  const expiring =
    within(expires, now, providers.reauthWarningMs) || within(row.consentExpiresAt, now, providers.consentWarningMs);
  return {
    id: row.id,
    provider: row.provider,
    alias: row.alias,
    status: row.status,
    institution_id: row.institutionId,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    last_synced_at: iso(row.lastSyncedAt),
    next_sync_at: iso(row.nextSyncAt),
    last_error:
      row.lastErrorCode && row.lastErrorAt
        ? { code: row.lastErrorCode, message: row.lastErrorMessage ?? "", at: row.lastErrorAt.toISOString() }
        : null,
    warnings: row.providerWarnings ?? [],
    consecutive_failures: row.consecutiveFailures,
    cooldown_until: iso(row.cooldownUntil),
    credentials_expire_at: iso(expires),
    consent_expires_at: iso(consent),
    reauth_recommended: row.status === "reauth_required" || (expiring && row.status !== "pending"),
  };
}
