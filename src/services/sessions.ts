import type { BatchItem } from "drizzle-orm/batch";
import { insertAudit } from "../db/audit";
import { findSession, listLiveSessions, revokeSession, revokeUserSessions } from "../db/sessions";
import { fail, notFound } from "../errors";
import { auditContext, type RequestMeta, type ServiceDeps } from "./context";
import { parseDevice } from "./device";

/** docs/contract.md "Sessions": `Session`. */
export async function listSessions(deps: ServiceDeps, userId: string, currentSessionId: string) {
  const rows = await listLiveSessions(deps.db, userId, deps.now());
  return rows.map((s) => ({
    id: s.id,
    current: s.id === currentSessionId,
    created_at: s.createdAt.toISOString(),
    last_active_at: s.lastActiveAt.toISOString(),
    expires_at: s.expiresAt.toISOString(),
    ip_address: s.ipAddress,
    location: s.location ?? null,
    device: parseDevice(s.userAgent),
    user_agent: s.userAgent,
  }));
}

/**
 * Revokes the user's sessions (all, or all but the current one) with no window for a session
 * created meanwhile: the user's home first refuses every token issued before now (but the kept
 * session's), then D1 ends every live session in one batch with the audit row (and any
 * statements the caller adds, e.g. the password change this revocation belongs to), then the
 * home is told the ended ids too, which covers tokens issued within the cut's own second.
 * Returns the ids revoked.
 */
export async function revokeSessions(
  deps: ServiceDeps,
  meta: RequestMeta,
  target: { userId: string; keep?: string },
  by: { actorId: string; sessionId?: string; reason: string },
  alongside: BatchItem<"sqlite">[] = [],
): Promise<string[]> {
  const now = deps.now();
  await deps.homes.revokeBefore(target.userId, now, target.keep ?? null);
  const [revoked] = await deps.db.batch([
    revokeUserSessions(deps.db, target.userId, by.reason, now, target.keep),
    ...alongside,
    insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action: "session.revoked",
      outcome: "success",
      userId: target.userId,
      actorId: by.actorId,
      sessionId: by.sessionId ?? null,
      details: { scope: target.keep ? "others" : "all", reason: by.reason },
    }),
  ]);
  const ids = revoked.map((r) => r.id);
  await deps.homes.revokeSessions(target.userId, ids);
  return ids;
}

/** Revokes one of the caller's own sessions; the current one must use logout (409). */
export async function revokeOwnSession(
  deps: ServiceDeps,
  meta: RequestMeta,
  auth: { userId: string; sessionId: string },
  sessionId: string,
) {
  if (sessionId === auth.sessionId) {
    throw fail("cannot_revoke_current_session", "Use logout to end the current session.");
  }
  const session = await findSession(deps.db, sessionId);
  // Another user's session is indistinguishable from a missing one.
  if (!session || session.userId !== auth.userId || session.revokedAt || session.expiresAt <= deps.now()) {
    throw notFound("session");
  }
  await endSession(deps, meta, {
    userId: auth.userId,
    sessionId,
    reason: "revoked_by_user",
    audit: {
      action: "session.revoked",
      actorId: auth.userId,
      sessionId: auth.sessionId,
      details: { scope: "one", revoked_session_id: sessionId },
    },
  });
}

/**
 * Ends one session at once: the user's home first (fail closed: if it cannot be told, nothing changes
 * and the caller may retry), then D1, audited in the same batch.
 */
export async function endSession(
  deps: Pick<ServiceDeps, "db" | "homes" | "limiter" | "now">,
  meta: RequestMeta,
  end: {
    userId: string;
    sessionId: string;
    reason: string;
    audit: { action: string; actorId?: string; sessionId?: string; details?: Record<string, unknown> };
  },
) {
  await deps.homes.revokeSessions(end.userId, [end.sessionId]);
  const now = deps.now();
  await deps.db.batch([
    revokeSession(deps.db, end.sessionId, end.reason, now),
    insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action: end.audit.action,
      outcome: "success",
      userId: end.userId,
      actorId: end.audit.actorId ?? null,
      sessionId: end.audit.sessionId ?? end.sessionId,
      details: end.audit.details ?? null,
    }),
  ]);
}
