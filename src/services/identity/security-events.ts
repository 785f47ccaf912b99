import { listUserAudit } from "../../db/audit";
import type { ServiceDeps } from "../context";
import { decodeCursor, encodeCursor } from "../cursor";
import { parseDevice } from "../device";

/** The user's own security log, newest first (API.md `GET /auth/security-events`). */
export async function securityEvents(deps: ServiceDeps, userId: string, limit: number, cursor?: string) {
  const rows = await listUserAudit(deps.db, userId, limit + 1, decodeCursor(cursor));
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    events: page.map((e) => ({
      id: e.id,
      action: e.action,
      outcome: e.outcome,
      occurred_at: e.occurredAt.toISOString(),
      ip_address: e.ipAddress,
      location: e.location ?? null,
      device: parseDevice(e.userAgent),
    })),
    next_cursor: rows.length > limit && last ? encodeCursor(last.occurredAt, last.id) : null,
  };
}
