import { sha256Hex } from "../../crypto/random";
import { insertAudit } from "../../db/audit";
import {
  findRefreshToken,
  insertRefreshToken,
  revokeSession,
  rotateRefreshToken,
  touchSession,
} from "../../db/sessions";
import { ApiError } from "../../http/errors";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { invalidRefreshToken } from "./errors";
import { sameHash, successorOf, type TokenResponse, tokenResponse } from "./tokens";

/**
 * Exchanges a refresh token for a new pair (rotation on every use). A token that was already
 * rotated revokes its whole session (reuse = theft, RFC 9700 §4.14.2), except that refreshes
 * racing inside the grace window all receive the same successor.
 */
export async function refresh(deps: ServiceDeps, meta: RequestMeta, presented: string): Promise<TokenResponse> {
  const hash = await sha256Hex(presented);
  const found = await findRefreshToken(deps.db, hash);
  const now = deps.now();
  if (!found) throw invalidRefreshToken();
  const { token, session, user } = found;
  const audit = (action: string, outcome: "success" | "failure" | "denied", details?: Record<string, unknown>) =>
    insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action,
      outcome,
      userId: user.id,
      sessionId: session.id,
      details,
    });

  if (session.revokedAt || session.expiresAt <= now || session.tokenVersion < user.tokenVersion) {
    await audit("auth.refresh", "denied", { reason: session.revokedAt ? "session_revoked" : "expired_or_rotated" });
    throw invalidRefreshToken();
  }

  const successor = await successorOf(deps.config, presented);
  const successorHash = await sha256Hex(successor);

  if (token.rotatedAt) {
    const graceMs = deps.config.tokens.refreshReuseGraceSeconds * 1000;
    const concurrent =
      now.getTime() - token.rotatedAt.getTime() <= graceMs &&
      token.successorHash !== null &&
      sameHash(token.successorHash, successorHash);
    if (!concurrent) {
      await deps.db.batch([
        revokeSession(deps.db, session.id, "refresh_token_reused", now),
        audit("auth.refresh_reuse", "denied", { rotated_at: token.rotatedAt.toISOString() }),
      ]);
      throw new ApiError(401, "refresh_token_reused", "This refresh token was already used; the session is revoked.");
    }
    return tokenResponse(deps.config, user, session.id, successor, now);
  }

  await deps.db.batch([
    rotateRefreshToken(deps.db, hash, successorHash, now),
    insertRefreshToken(deps.db, { tokenHash: successorHash, sessionId: session.id, issuedAt: now }),
    touchSession(deps.db, session.id, { lastActiveAt: now, ipAddress: meta.ip, userAgent: meta.userAgent }),
    audit("auth.refresh", "success"),
  ]);
  return tokenResponse(deps.config, user, session.id, successor, now);
}

/** Revokes the caller's session: its refresh token fails at once, its access token too. */
export async function logout(deps: ServiceDeps, meta: RequestMeta, userId: string, sessionId: string) {
  const now = deps.now();
  await deps.db.batch([
    revokeSession(deps.db, sessionId, "logout", now),
    insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action: "auth.logout",
      outcome: "success",
      userId,
      sessionId,
    }),
  ]);
}
