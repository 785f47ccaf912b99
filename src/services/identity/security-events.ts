import type { AuditRow } from "../../db/audit";
import { listUserAudit } from "../../db/audit";
import type { ServiceDeps } from "../context";
import { decodeCursor, encodeCursor } from "../cursor";
import { parseDevice } from "../device";

/** Who caused an event in a user's own log. */
export type EventActor = "you" | "administrator" | "another_account" | "system";

const ADMIN_REASONS = new Set(["admin_lock", "admin_revoke", "account_deleted"]);

function actorOf(e: AuditRow, userId: string): EventActor {
  if (e.actorId === null || e.actorId === userId) return e.method === null ? "system" : "you";
  const reason = (e.details as { reason?: unknown } | null)?.reason;
  return e.action.startsWith("admin.") || (typeof reason === "string" && ADMIN_REASONS.has(reason))
    ? "administrator"
    : "another_account";
}

/**
 * The user's own security log, newest first (docs/contract.md "Identity"). An event
 * someone else caused (an administrator, another account) shows who in general terms only: their
 * IP address, location and device are theirs, not this user's, and are left out.
 */
export async function securityEvents(deps: ServiceDeps, userId: string, limit: number, cursor?: string) {
  const rows = await listUserAudit(deps.db, userId, limit + 1, decodeCursor(cursor));
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    events: page.map((e) => {
      const by = actorOf(e, userId);
      const own = by === "you" || by === "system";
      return {
        id: e.id,
        action: e.action,
        outcome: e.outcome,
        occurred_at: e.occurredAt.toISOString(),
        by,
        ip_address: own ? e.ipAddress : null,
        location: own ? (e.location ?? null) : null,
        device: parseDevice(own ? e.userAgent : null),
      };
    }),
    next_cursor: rows.length > limit && last ? encodeCursor(last.occurredAt, last.id) : null,
  };
}
