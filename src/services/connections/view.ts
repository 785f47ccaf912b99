import type { z } from "zod";
import type { ConnectionRow } from "../../db/connections";
import type { Connection } from "../../wire/connections";

/** The wire shape of a connection (src/wire/connections.ts). */
export type ConnectionView = z.infer<typeof Connection>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * Renders a row. `reauth_recommended` is true once the provider's refresh token is within
 * `warningMs` of dying (Schwab: 7 days after the login, not renewable) or already needs re-auth.
 */
export function connectionView(row: ConnectionRow, now: Date, warningMs: number): ConnectionView {
  const expires = row.refreshTokenExpiresAt;
  const expiring = expires !== null && expires.getTime() - now.getTime() < warningMs;
  return {
    id: row.id,
    provider: row.provider,
    alias: row.alias,
    status: row.status,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    last_synced_at: iso(row.lastSyncedAt),
    next_sync_at: iso(row.nextSyncAt),
    last_error:
      row.lastErrorCode && row.lastErrorAt
        ? { code: row.lastErrorCode, message: row.lastErrorMessage ?? "", at: row.lastErrorAt.toISOString() }
        : null,
    consecutive_failures: row.consecutiveFailures,
    cooldown_until: iso(row.cooldownUntil),
    credentials_expire_at: iso(expires),
    reauth_recommended: row.status === "reauth_required" || (expiring && row.status !== "pending"),
  };
}
