import { sha256Hex } from "../../crypto/random";
import { insertAudit } from "../../db/audit";
import { expireAllUserTokens } from "../../db/email-tokens";
import { revokeUserSessions } from "../../db/sessions";
import { bumpTokenVersion, findUserByEmail, findUserById, updateUser } from "../../db/users";
import { emails, greeting } from "../../email/templates";
import { notFound } from "../../errors";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { passwordProblems } from "../password-policy";
import { revokeSessions } from "../sessions";
import { emailLink, replaceEmailToken, spendEmailToken } from "./email-tokens";
import { weakPassword } from "./errors";
import { clearFailures } from "./lockout";
import type { Factor } from "./mfa";
import { profileChanged } from "./profile";
import { stepUp } from "./step-up";
import { normalizeEmail } from "./users";

/**
 * Emails a reset link when the account exists; answers the same either way (202). Both paths
 * make one D1 read and one D1 write, and the email leaves after the response (src/email/mailer.ts).
 */
export async function requestPasswordReset(deps: ServiceDeps, meta: RequestMeta, rawEmail: string) {
  const email = normalizeEmail(rawEmail);
  const user = await findUserByEmail(deps.db, email);
  if (!user) {
    await insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: deps.now(),
      action: "auth.password_reset_requested",
      outcome: "denied",
      details: { reason: "unknown_email", email_sha256: await sha256Hex(email) },
    });
    return;
  }
  const token = await replaceEmailToken(
    deps,
    meta,
    user.id,
    "reset_password",
    deps.config.tokens.passwordResetTtlSeconds,
    "auth.password_reset_requested",
  );
  deps.mailer.send(emails.passwordReset(user.email, greeting(user), emailLink(deps, "reset-password", token)));
}

/**
 * Sets a new password from a reset token: every session is revoked, the token version bumped,
 * every other emailed link expired, this client's lockout lifted (the link proves the inbox) and
 * a confirmation emailed. An administrator's lock stays: only an administrator lifts it.
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
  // The home first (fail closed): every token issued until now stops, and older versions too.
  await deps.homes.revokeBefore(user.id, now, null);
  await deps.homes.setMinTokenVersion(user.id, user.tokenVersion + 1);
  const [, revoked] = await deps.db.batch([
    updateUser(deps.db, user.id, {
      passwordHash: await deps.passwords.hashPassword(newPassword),
      // Receiving the link proves the inbox, so an unverified address becomes verified.
      emailVerifiedAt: user.emailVerifiedAt ?? now,
      updatedAt: now,
    }),
    revokeUserSessions(deps.db, user.id, "password_reset", now),
    bumpTokenVersion(deps.db, user.id),
    // A pending email change or another reset link must not outlive the new password.
    expireAllUserTokens(deps.db, user.id, now),
    insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action: "auth.password_reset",
      outcome: "success",
      userId: user.id,
    }),
  ]);
  await deps.homes.revokeSessions(
    user.id,
    revoked.map((r) => r.id),
  );
  await profileChanged(deps, user.id);
  await clearFailures(deps, meta, user.email, { lift: true });
  deps.mailer.send(emails.passwordResetDone(user.email, greeting(user)));
  return { revokedSessionIds: revoked.map((r) => r.id) };
}

/**
 * Changes the password of a logged-in user (stepped up: the current one, and a code with MFA on): every other
 * session ends and every emailed link expires; the current session keeps working as it is.
 */
export async function changePassword(
  deps: ServiceDeps,
  meta: RequestMeta,
  auth: { userId: string; sessionId: string },
  input: { currentPassword: string; newPassword: string } & Factor,
) {
  const user = await findUserById(deps.db, auth.userId);
  if (!user) throw notFound("user");
  await stepUp(deps, meta, auth, user, { ...input, password: input.currentPassword }, "auth.password_changed");
  const reasons = passwordProblems(input.newPassword, { email: user.email, name: user.name });
  if (input.newPassword === input.currentPassword) reasons.push("must differ from the current password");
  if (reasons.length > 0) throw weakPassword(reasons, "new_password");
  const now = deps.now();
  const revoked = await revokeSessions(
    deps,
    meta,
    { userId: user.id, keep: auth.sessionId },
    { actorId: user.id, sessionId: auth.sessionId, reason: "password_changed" },
    [
      updateUser(deps.db, user.id, {
        passwordHash: await deps.passwords.hashPassword(input.newPassword),
        updatedAt: now,
      }),
      expireAllUserTokens(deps.db, user.id, now),
      insertAudit(deps.db, {
        ...auditContext(meta),
        occurredAt: now,
        action: "auth.password_changed",
        outcome: "success",
        userId: user.id,
        sessionId: auth.sessionId,
      }),
    ],
  );
  await profileChanged(deps, user.id);
  deps.mailer.send(emails.passwordChanged(user.email, greeting(user)));
  return { revokedSessionIds: revoked };
}
