import { insertAudit } from "../../db/audit";
import type { Db } from "../../db/client";
import { auditContext, type JobMeta, type RequestMeta } from "../context";

/** Audit outcomes (the audit table's enum). */
export type Outcome = "success" | "failure" | "denied";

/**
 * An INSERT for one connection event, to ride in the batch of the change it records. Jobs pass
 * `meta = null`: no request caused the event.
 */
export function connectionAudit(
  db: Db,
  meta: RequestMeta | JobMeta | null,
  at: Date,
  event: {
    action: string;
    outcome: Outcome;
    userId: string | null;
    actorId?: string | null;
    connectionId: string | null;
    provider?: string | null;
    details?: Record<string, unknown>;
  },
) {
  return insertAudit(db, {
    ...(meta ? auditContext(meta) : {}),
    occurredAt: at,
    action: event.action,
    outcome: event.outcome,
    userId: event.userId,
    actorId: event.actorId ?? null,
    details: {
      ...(event.connectionId ? { connection_id: event.connectionId } : {}),
      ...(event.provider ? { provider: event.provider } : {}),
      ...event.details,
    },
  });
}
