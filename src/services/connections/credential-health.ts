/**
 * Flags connections whose provider refresh token is about to die, before it breaks. Schwab's
 * lives 7 days from the login and refreshing never extends it (docs/providers/schwab.md), so every Schwab
 * connection needs the user back within a week: warn early, then require re-auth in time.
 */
import { batchAll } from "../../db/batch";
import type { Db } from "../../db/client";
import { connectionsToExpire, connectionsToWarn, flagReauthRequired, updateUserConnection } from "../../db/connections";
import { connectionAudit } from "./audit";
import { lastErrorMessage } from "./last-error";

/**
 * Past this lead the credentials are treated as dead. More than the hourly cron period, so a
 * token dying before the next run is flagged by this one.
 */
export const REAUTH_LEAD_MS = 65 * 60_000;
const BATCH = 50;

/** What one run did. */
export interface CredentialHealthReport {
  warned: number;
  reauth_required: number;
}

/** Warns (audit `connection.reauth_due`) once per credentials, then flags `reauth_required`. */
export async function checkCredentialHealth(db: Db, now: Date, warningMs: number): Promise<CredentialHealthReport> {
  const report: CredentialHealthReport = { warned: 0, reauth_required: 0 };

  const dying = await connectionsToExpire(db, new Date(now.getTime() + REAUTH_LEAD_MS), BATCH);
  if (dying.length > 0) {
    await batchAll(
      db,
      dying.flatMap((row) => [
        flagReauthRequired(db, row.id, {
          lastErrorCode: "reauth_required",
          lastErrorMessage: lastErrorMessage("reauth_expiring"),
          lastErrorAt: now,
          updatedAt: now,
        }),
        connectionAudit(db, null, now, {
          action: "connection.reauth_required",
          outcome: "failure",
          userId: row.userId,
          connectionId: row.id,
          provider: row.provider,
          details: {
            reason: "refresh_token_expiring",
            credentials_expire_at: row.refreshTokenExpiresAt?.toISOString() ?? null,
          },
        }),
      ]),
    );
    report.reauth_required = dying.length;
  }

  const expiring = await connectionsToWarn(db, new Date(now.getTime() + warningMs), BATCH);
  if (expiring.length > 0) {
    await batchAll(
      db,
      expiring.flatMap((row) => [
        updateUserConnection(db, row.userId, row.id, { reauthWarnedAt: now }),
        connectionAudit(db, null, now, {
          action: "connection.reauth_due",
          outcome: "success",
          userId: row.userId,
          connectionId: row.id,
          provider: row.provider,
          details: { credentials_expire_at: row.refreshTokenExpiresAt?.toISOString() ?? null },
        }),
      ]),
    );
    report.warned = expiring.length;
  }
  return report;
}
