import { insertAudit } from "../../db/audit";
import { listLiveSessions, revokeUserSessions, touchSession } from "../../db/sessions";
import { bumpTokenVersion, findUserByEmail, findUserById, updateUser } from "../../db/users";
import { emails } from "../../email/templates";
import { notFound } from "../../http/errors";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { passwordProblems } from "../password-policy";
import { emailLink, replaceEmailToken, spendEmailToken } from "./email-tokens";
import { invalidCredentials, weakPassword } from "./errors";
import { normalizeEmail } from "./users";

/** Emails a reset link when the account exists; answers the same either way (202). */
export async function requestPasswordReset(deps: ServiceDeps, meta: RequestMeta, rawEmail: string) {
  const user = await findUserByEmail(deps.db, normalizeEmail(rawEmail));
  if (!user) return;
  const token = await replaceEmailToken(
    deps,
    meta,
    user.id,
    "reset_password",
    deps.config.tokens.passwordResetTtlSeconds,
    "auth.password_reset_requested",
  );
  await deps.email.send(emails.passwordReset(user.email, user.name, emailLink(deps, "reset-password", token)));
}

/**
 * Sets a new password from a reset token: every session is revoked, the token version bumped,
 * the lockout cleared (proving control of the inbox) and a confirmation emailed.
 */
export async function resetPassword(deps: ServiceDeps, meta: RequestMeta, token: string, newPassword: string) {
  // Judge the password before spending the token, so a weak choice does not burn the link.
  const basic = passwordProblems(newPassword);
  if (basic.length > 0) throw weakPassword(basic, "new_password");
  const row = await spendEmailToken(deps, token, ["reset_password"]);
  const user = await findUserById(deps.db, row.userId);
  if (!user) throw notFound("user");
  const reasons = passwordProblems(newPassword, { email: user.email, name: user.name });
  if (reasons.length > 0) throw weakPassword(reasons, "new_password");
  const now = deps.now();
  // Gate first (fail closed): every live session dies and older tokens stop verifying.
  const live = await listLiveSessions(deps.db, user.id, now);
  await deps.gate.revokeSessions(
    user.id,
    live.map((s) => s.id),
  );
  await deps.gate.setMinTokenVersion(user.id, user.tokenVersion + 1);
  const [, revoked] = await deps.db.batch([
    updateUser(deps.db, user.id, {
      passwordHash: await deps.passwords.hashPassword(newPassword),
      failedLoginCount: 0,
      lockedUntil: null,
      // Receiving the link proves the inbox, so an unverified address becomes verified.
      emailVerifiedAt: user.emailVerifiedAt ?? now,
      updatedAt: now,
    }),
    revokeUserSessions(deps.db, user.id, "password_reset", now),
    bumpTokenVersion(deps.db, user.id, now),
    insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action: "auth.password_reset",
      outcome: "success",
      userId: user.id,
    }),
  ]);
  await deps.email.send(emails.passwordResetDone(user.email, user.name));
  return { revokedSessionIds: revoked.map((r) => r.id) };
}

/**
 * Changes the password of a logged-in user: every other session is revoked and the token
 * version bumped; the current session keeps working after its next refresh.
 */
export async function changePassword(
  deps: ServiceDeps,
  meta: RequestMeta,
  auth: { userId: string; sessionId: string },
  input: { currentPassword: string; newPassword: string },
) {
  const user = await findUserById(deps.db, auth.userId);
  if (!user) throw notFound("user");
  const check = await deps.passwords.verifyPassword(input.currentPassword, user.passwordHash);
  const now = deps.now();
  if (!check.ok) {
    await insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action: "auth.password_changed",
      outcome: "failure",
      userId: user.id,
      sessionId: auth.sessionId,
      details: { reason: "bad_current_password" },
    });
    throw invalidCredentials();
  }
  const reasons = passwordProblems(input.newPassword, { email: user.email, name: user.name });
  if (input.newPassword === input.currentPassword) reasons.push("must differ from the current password");
  if (reasons.length > 0) throw weakPassword(reasons, "new_password");
  const others = (await listLiveSessions(deps.db, user.id, now)).filter((s) => s.id !== auth.sessionId);
  await deps.gate.revokeSessions(
    user.id,
    others.map((s) => s.id),
  );
  await deps.gate.setMinTokenVersion(user.id, user.tokenVersion + 1);
  const results = await deps.db.batch([
    updateUser(deps.db, user.id, {
      passwordHash: await deps.passwords.hashPassword(input.newPassword),
      updatedAt: now,
    }),
    revokeUserSessions(deps.db, user.id, "password_changed", now, auth.sessionId),
    bumpTokenVersion(deps.db, user.id, now),
    // The current session follows the new version, so its refresh token keeps working.
    touchSession(deps.db, auth.sessionId, { tokenVersion: user.tokenVersion + 1, lastActiveAt: now }),
    insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action: "auth.password_changed",
      outcome: "success",
      userId: user.id,
      sessionId: auth.sessionId,
    }),
  ]);
  await deps.email.send(emails.passwordChanged(user.email, user.name));
  return { revokedSessionIds: results[1].map((r) => r.id) };
}
