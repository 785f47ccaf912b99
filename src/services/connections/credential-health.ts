/**
 * Connections whose access is about to end, flagged before it breaks, and their owners told once:
 * Schwab's refresh token lives 7 days from the login and refreshing never extends it
 * (docs/providers/schwab.md); a bank consent lasts its agreement's days (GoCardless: 90 by
 * default, docs/providers/gocardless.md). The owner gets one email and one live event
 * (`connection.consent_expiring`) per credentials, then the connection needs re-authorization,
 * its data intact.
 */

import { batchAll } from "../../db/batch";
import {
  type ConnectionRow,
  connectionsToExpire,
  connectionsToWarn,
  consentsToExpire,
  consentsToWarn,
  flagReauthRequired,
  updateUserConnection,
} from "../../db/connections";
import { findUserById } from "../../db/users";
import type { Deps } from "../../deps";
import { emails, greeting } from "../../email/templates";
import { liveEvent } from "../../home/events";
import { jobMeta } from "../context";
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

type HealthDeps = Pick<Deps, "db" | "config" | "homes" | "mailer" | "providers" | "trace">;

/** When a row's access ends: its consent, else its refresh token. */
const endOf = (row: ConnectionRow) => row.consentExpiresAt ?? row.refreshTokenExpiresAt;

/** Flags connections whose access ends within the lead, then warns those within their warning window. */
export async function checkCredentialHealth(deps: HealthDeps, now: Date): Promise<CredentialHealthReport> {
  const { db } = deps;
  const soon = new Date(now.getTime() + REAUTH_LEAD_MS);
  const dying = dedupe([...(await connectionsToExpire(db, soon, BATCH)), ...(await consentsToExpire(db, now, BATCH))]);
  if (dying.length > 0) {
    await batchAll(
      db,
      dying.flatMap((row) => {
        const consent = row.consentExpiresAt !== null && row.consentExpiresAt <= now;
        return [
          flagReauthRequired(db, row.id, {
            lastErrorCode: "reauth_required",
            lastErrorMessage: lastErrorMessage(consent ? "consent_expired" : "reauth_expiring"),
            lastErrorAt: now,
            updatedAt: now,
          }),
          connectionAudit(db, jobMeta(deps), now, {
            action: "connection.reauth_required",
            outcome: "failure",
            userId: row.userId,
            connectionId: row.id,
            provider: row.provider,
            details: {
              reason: consent ? "consent_expired" : "refresh_token_expiring",
              expires_at: endOf(row)?.toISOString() ?? null,
            },
          }),
        ];
      }),
    );
    for (const row of dying) {
      await deps.homes.publish(row.userId, liveEvent("connection.reauth_required", { connection_id: row.id }, now));
    }
  }

  const { reauthWarningMs, consentWarningMs } = deps.config.providers;
  const refreshWarn = await connectionsToWarn(db, new Date(now.getTime() + reauthWarningMs), BATCH);
  const consentWarn = await consentsToWarn(db, new Date(now.getTime() + consentWarningMs), BATCH);
  const warn = [
    ...refreshWarn.map((row) => ({ row, patch: { reauthWarnedAt: now } })),
    ...consentWarn.map((row) => ({ row, patch: { consentWarnedAt: now } })),
  ];
  if (warn.length > 0) {
    await batchAll(
      db,
      warn.flatMap(({ row, patch }) => [
        updateUserConnection(db, row.userId, row.id, patch),
        connectionAudit(db, jobMeta(deps), now, {
          action: "connection.reauth_due",
          outcome: "success",
          userId: row.userId,
          connectionId: row.id,
          provider: row.provider,
          details: { expires_at: endOf(row)?.toISOString() ?? null },
        }),
      ]),
    );
    for (const row of dedupe(warn.map((w) => w.row))) await notify(deps, row, now);
  }
  return { warned: warn.length, reauth_required: dying.length };
}

const dedupe = (rows: ConnectionRow[]) => [...new Map(rows.map((r) => [r.id, r])).values()];

/** One email and one live event saying what to do; best effort (the audit row is the record). */
async function notify(deps: HealthDeps, row: ConnectionRow, now: Date) {
  const ends = endOf(row);
  if (!ends) return;
  const name = deps.providers.info(row.provider)?.name ?? row.provider;
  await deps.homes.publish(
    row.userId,
    liveEvent(
      "connection.consent_expiring",
      {
        connection_id: row.id,
        provider: row.provider,
        expires_at: ends.toISOString(),
        action: `POST /api/v1/connections/${row.id}/reauthorize`,
      },
      now,
    ),
  );
  const user = await findUserById(deps.db, row.userId);
  if (!user) return;
  deps.mailer.send(
    emails.consentExpiring(user.email, greeting(user), name, ends, `${deps.config.appLinkBaseUrl}/connections`),
  );
}
