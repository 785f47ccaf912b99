import { insertAudit } from "../../db/audit";
import { expireUserTokens } from "../../db/email-tokens";
import { findUserByEmail, findUserById, updateUser } from "../../db/users";
import { emails, greeting } from "../../email/templates";
import { fail, notFound } from "../../errors";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { emailLink, newEmailToken } from "./email-tokens";
import { reauthenticate } from "./reauth";
import { normalizeEmail, type PublicUser, toPublicUser } from "./users";

export async function getMe(deps: Pick<ServiceDeps, "db">, userId: string) {
  const user = await findUserById(deps.db, userId);
  if (!user) throw notFound("user");
  return toPublicUser(user);
}

/** What `GET /auth/me` reads when the user's home cannot be reached: D1, and no caching. */
export const uncachedProfile = () => ({ kind: "profile" as const, profile: null, epoch: -1 });

/**
 * The user as their home object has them cached, else from D1, then cached (unless the user
 * changed meanwhile: `epoch`). The hot path of `GET /auth/me` makes no D1 query.
 */
export async function myProfile(
  deps: Pick<ServiceDeps, "db" | "gate" | "defer" | "logger">,
  userId: string,
  cached: { profile: PublicUser | null; epoch: number },
): Promise<PublicUser> {
  if (cached.profile) return cached.profile;
  const profile = await getMe(deps, userId);
  if (cached.epoch < 0) return profile;
  deps.defer(
    deps.gate
      .home(userId)
      .setProfile(profile, cached.epoch)
      .catch((err) => deps.logger.warn("profile not cached", { error: String(err) })),
  );
  return profile;
}

/**
 * Every change of a user row calls this after D1 commits, before answering: the next
 * `GET /auth/me` reads the new row. A home that cannot be reached is logged; its cached copy
 * then expires on its own (src/gate/gate.ts PROFILE_TTL_MS).
 */
export async function profileChanged(deps: Pick<ServiceDeps, "gate" | "logger">, userId: string) {
  await deps.gate
    .forgetProfile(userId)
    .catch((err) => deps.logger.error("cached profile not forgotten", { userId, error: String(err) }));
}

export async function updateName(deps: ServiceDeps, meta: RequestMeta, userId: string, name: string) {
  const now = deps.now();
  await deps.db.batch([
    updateUser(deps.db, userId, { name, updatedAt: now }),
    insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action: "auth.profile_updated",
      outcome: "success",
      userId,
    }),
  ]);
  await profileChanged(deps, userId);
  return getMe(deps, userId);
}

/**
 * Starts an email change: needs the current password; the new address receives a link and only
 * replaces the old one once verified. A taken address gets no email (and no different answer).
 */
export async function requestEmailChange(
  deps: ServiceDeps,
  meta: RequestMeta,
  auth: { userId: string; sessionId: string },
  input: { newEmail: string; currentPassword: string },
) {
  const user = await findUserById(deps.db, auth.userId);
  if (!user) throw notFound("user");
  const newEmail = normalizeEmail(input.newEmail);
  await reauthenticate(deps, meta, auth, user, input.currentPassword, "auth.email_change_requested");
  const now = deps.now();
  const base = {
    ...auditContext(meta),
    occurredAt: now,
    action: "auth.email_change_requested",
    userId: user.id,
    sessionId: auth.sessionId,
  };
  if (newEmail === user.email) {
    throw fail("validation_failed", "That is already your email address.", {
      errors: [{ path: "new_email", message: "is already your email address" }],
    });
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
