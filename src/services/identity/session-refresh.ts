import { sha256Hex } from "../../crypto/random";
import { insertAudit } from "../../db/audit";
import {
  findRefreshToken,
  insertRefreshToken,
  revokeSession,
  rotateRefreshToken,
  touchSession,
} from "../../db/sessions";
import type { LimitAnswer } from "../../durable/bucket";
import { fail } from "../../errors";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { takeLimits } from "../limits";
import { endSession } from "../sessions";
import { accountDisabled, invalidRefreshToken } from "./errors";
import { sameHash, successorOf, type TokenResponse, tokenResponse } from "./tokens";

/**
 * Exchanges a refresh token for a new pair (rotation on every use). A token that was already
 * rotated revokes its whole session (reuse = theft, RFC 9700 §4.14.2), except that refreshes
 * racing inside the grace window all receive the same successor.
 */
export async function refresh(
  deps: ServiceDeps,
  meta: RequestMeta,
  presented: string,
): Promise<{ tokens: TokenResponse; rate: LimitAnswer | null }> {
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

  // Refresh is limited per session (docs/contract.md "Defaults").
  const [rate = null] = await takeLimits(
    deps,
    meta,
    [{ rule: "refresh_session", kind: "session", userId: user.id, sessionId: session.id }],
    { userId: user.id },
  );

  // An administrator's lock ends sessions at once; this refuses a refresh that raced it.
  if (user.disabledAt) {
    await audit("auth.refresh", "denied", { reason: "account_disabled" });
    throw accountDisabled();
  }
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
    // Within the grace window the same successor comes back (HMAC-derived, so racing requests
    // agree without storing it in plaintext; docs/design.md "Refresh tokens" says why that is
    // acceptable). Outside it, a rotated token presented again means theft: end the session.
    if (!concurrent) {
      await deps.homes.revokeSessions(user.id, [session.id]);
      await deps.db.batch([
        revokeSession(deps.db, session.id, "refresh_token_reused", now),
        audit("auth.refresh_reuse", "denied", { rotated_at: token.rotatedAt.toISOString() }),
      ]);
      throw fail("refresh_token_reused", "This refresh token was already used; the session is revoked.");
    }
    await audit("auth.refresh", "success", { grace: true, rotated_at: token.rotatedAt.toISOString() });
    return { tokens: await tokenResponse(deps.config, user, session.id, successor, now), rate };
  }

  await deps.db.batch([
    rotateRefreshToken(deps.db, hash, successorHash, now),
    insertRefreshToken(deps.db, { tokenHash: successorHash, sessionId: session.id, issuedAt: now }),
    touchSession(deps.db, session.id, { lastActiveAt: now, ipAddress: meta.ip, userAgent: meta.userAgent }),
    audit("auth.refresh", "success"),
  ]);
  return { tokens: await tokenResponse(deps.config, user, session.id, successor, now), rate };
}

/** Revokes the caller's session: its refresh token fails at once, its access token too. */
export async function logout(deps: ServiceDeps, meta: RequestMeta, userId: string, sessionId: string) {
  await endSession(deps, meta, { userId, sessionId, reason: "logout", audit: { action: "auth.logout" } });
}
