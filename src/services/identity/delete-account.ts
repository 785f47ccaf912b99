import { findUserById } from "../../db/users";
import { emails, greeting } from "../../email/templates";
import { notFound } from "../../errors";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { eraseAccount } from "./erase";
import type { Factor } from "./mfa";
import { stepUp } from "./step-up";

/**
 * `DELETE /api/v1/auth/me`: the user erases their own account, proving it with the password
 * and, when MFA is on, a current code (a stolen access token alone cannot). Wrong proofs count
 * like any re-authentication. A confirmation goes to the address afterwards.
 */
export async function deleteOwnAccount(
  deps: ServiceDeps,
  meta: RequestMeta,
  auth: { userId: string; sessionId: string },
  input: { password: string } & Factor,
) {
  const user = await findUserById(deps.db, auth.userId);
  if (!user) throw notFound("user");
  const { factor } = await stepUp(deps, meta, auth, user, input, "auth.account_deleted");
  // The audit row outlives the account (append-only): ids and the proof used, nothing personal
  // (not even the address this request came from).
  await eraseAccount(deps, user, {
    ...auditContext(meta),
    ipAddress: null,
    userAgent: null,
    location: null,
    occurredAt: deps.now(),
    action: "auth.account_deleted",
    outcome: "success",
    userId: user.id,
    actorId: user.id,
    sessionId: auth.sessionId,
    details: { mfa: factor?.method ?? null },
  });
  deps.mailer.send(emails.ownAccountDeleted(user.email, greeting(user)));
}
