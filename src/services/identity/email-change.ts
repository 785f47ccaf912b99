/** Starting an email change (completed by `verifyEmail`, ./registration.ts). */
import { insertAudit } from "../../db/audit";
import { expireUserTokens } from "../../db/email-tokens";
import { findUserByEmail, findUserById } from "../../db/users";
import { emails, greeting } from "../../email/templates";
import { invalidField, notFound } from "../../errors";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { emailLink, newEmailToken } from "./email-tokens";
import type { Factor } from "./mfa";
import { stepUp } from "./step-up";
import { normalizeEmail } from "./users";

/**
 * Starts an email change: needs the current password (and a code with MFA on); the new address receives a link and only
 * replaces the old one once verified. A taken address gets no email (and no different answer).
 */
export async function requestEmailChange(
  deps: ServiceDeps,
  meta: RequestMeta,
  auth: { userId: string; sessionId: string },
  input: { newEmail: string; currentPassword: string } & Factor,
) {
  const user = await findUserById(deps.db, auth.userId);
  if (!user) throw notFound("user");
  const newEmail = normalizeEmail(input.newEmail);
  await stepUp(deps, meta, auth, user, { ...input, password: input.currentPassword }, "auth.email_change_requested");
  const now = deps.now();
  const base = {
    ...auditContext(meta),
    occurredAt: now,
    action: "auth.email_change_requested",
    userId: user.id,
    sessionId: auth.sessionId,
  };
  if (newEmail === user.email) {
    throw invalidField("new_email", "is already your email address", "That is already your email address.");
  }
  if (await findUserByEmail(deps.db, newEmail)) {
    await insertAudit(deps.db, { ...base, outcome: "denied", details: { reason: "email_taken" } });
    return;
  }
  const { token, insert } = await newEmailToken(
    deps,
    user.id,
    "change_email",
    deps.config.tokens.emailVerificationTtlSeconds,
    newEmail,
  );
  await deps.db.batch([
    expireUserTokens(deps.db, user.id, "change_email", now),
    insert,
    insertAudit(deps.db, { ...base, outcome: "success" }),
  ]);
  deps.mailer.send(emails.changeEmailVerify(newEmail, emailLink(deps, "verify-email", token)));
  deps.mailer.send(emails.changeEmailRequested(user.email, greeting(user), newEmail));
}
