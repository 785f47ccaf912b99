import { insertAudit, queryAudit } from "../../db/audit";
import { bumpAllTokenVersions } from "../../db/users";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { decodeCursor, encodeCursor } from "../cursor";

/**
 * Global breach rotation: refresh tokens issued before stop working at once (every user's
 * version moves on in D1); access tokens within 60 s (each user's home re-reads the `global` Limiter).
 */
export async function rotateGlobalTokens(
  deps: ServiceDeps,
  meta: RequestMeta,
  actor: { userId: string; sessionId: string },
  reason: string,
) {
  const rotation = await deps.limiter.rotateGlobal();
  const now = deps.now();
  await deps.db.batch([
    bumpAllTokenVersions(deps.db),
    insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action: "admin.global_tokens_rotated",
      outcome: "success",
      actorId: actor.userId,
      sessionId: actor.sessionId,
      details: { reason, global_token_version: rotation.version },
    }),
  ]);
  return rotation.version;
}

export async function auditEvents(
  deps: ServiceDeps,
  f: { userId?: string; action?: string; traceId?: string; since?: Date; until?: Date; limit: number; cursor?: string },
) {
  const rows = await queryAudit(deps.db, { ...f, limit: f.limit + 1, after: decodeCursor(f.cursor) });
  const page = rows.slice(0, f.limit);
  const last = page.at(-1);
  return {
    events: page.map((e) => ({
      id: e.id,
      occurred_at: e.occurredAt.toISOString(),
      action: e.action,
      outcome: e.outcome,
      user_id: e.userId,
      actor_id: e.actorId,
      session_id: e.sessionId,
      request_id: e.requestId,
      trace_id: e.traceId ?? null,
      method: e.method,
      path: e.path,
      ip_address: e.ipAddress,
      user_agent: e.userAgent,
      location: e.location ?? null,
      details: e.details ?? null,
    })),
    next_cursor: rows.length > f.limit && last ? encodeCursor(last.occurredAt, last.id) : null,
  };
}
