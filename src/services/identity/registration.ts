import { newId, sha256Hex } from "../../crypto/random";
import { insertAudit } from "../../db/audit";
import { expireAllUserTokens } from "../../db/email-tokens";
import { findUserByEmail, findUserById, insertUser, type UserRow, updateUser } from "../../db/users";
import { emails, greeting } from "../../email/templates";
import { fail } from "../../errors";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { passwordProblems } from "../password-policy";
import { emailLink, newEmailToken, replaceEmailToken, spendEmailToken } from "./email-tokens";
import { invalidToken, weakPassword } from "./errors";
import { profileChanged } from "./profile";
import { isUniqueViolation, normalizeEmail } from "./users";

/**
 * Creates an account and emails a verification link. Answers the same whether or not the
 * address is taken (no enumeration): the same hashing, one D1 read and one D1 write either way,
 * and the email (a verification link, or "someone tried to sign up" to the owner) leaves after
 * the response.
 */
export async function register(
  deps: ServiceDeps,
  meta: RequestMeta,
  input: { email: string; password: string; name: string },
) {
  const email = normalizeEmail(input.email);
  const reasons = passwordProblems(input.password, { email, name: input.name });
  if (reasons.length > 0) throw weakPassword(reasons);
  // Hash before looking the address up, so both branches spend the same work.
  const passwordHash = await deps.passwords.hashPassword(input.password);
  const now = deps.now();
  const existing = await findUserByEmail(deps.db, email);
  if (existing) return signupAttempt(deps, meta, existing);

  const id = newId("usr");
  const { token, insert } = await newEmailToken(
    deps,
    id,
    "verify_email",
    deps.config.tokens.emailVerificationTtlSeconds,
  );
  try {
    await deps.db.batch([
      insertUser(deps.db, {
        id,
        email,
        name: input.name,
        passwordHash,
        // ADMIN_EMAILS is applied per request, never stored (isAdmin).
        role: "user",
        createdAt: now,
        updatedAt: now,
      }),
      insert,
      insertAudit(deps.db, {
        ...auditContext(meta),
        occurredAt: now,
        action: "auth.register",
        outcome: "success",
        userId: id,
      }),
    ]);
  } catch (err) {
    // A concurrent registration of the same address won the race: treat it as taken.
    if (!isUniqueViolation(err)) throw err;
    const winner = await findUserByEmail(deps.db, email);
    if (winner) return signupAttempt(deps, meta, winner);
    throw err;
  }
  // The name typed here is not put in the email: the address is not proven yet.
  deps.mailer.send(emails.verifyEmail(email, emailLink(deps, "verify-email", token)));
}

async function signupAttempt(deps: ServiceDeps, meta: RequestMeta, user: UserRow) {
  await insertAudit(deps.db, {
    ...auditContext(meta),
    occurredAt: deps.now(),
    action: "auth.register",
    outcome: "denied",
    userId: user.id,
    details: { reason: "email_taken" },
  });
  deps.mailer.send(emails.signupAttempt(user.email, greeting(user), `${deps.config.appLinkBaseUrl}/forgot-password`));
}

/** Sends a fresh verification link to an unverified account; silent otherwise (202 always, equal work). */
export async function resendVerification(deps: ServiceDeps, meta: RequestMeta, rawEmail: string) {
  const email = normalizeEmail(rawEmail);
  const user = await findUserByEmail(deps.db, email);
  if (!user || user.emailVerifiedAt) {
    await insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: deps.now(),
      action: "auth.verification_resent",
      outcome: "denied",
      userId: user?.id ?? null,
      details: user
        ? { reason: "already_verified" }
        : { reason: "unknown_email", email_sha256: await sha256Hex(email) },
    });
    return;
  }
  // The newest link supersedes older ones.
  const token = await replaceEmailToken(
    deps,
    meta,
    user.id,
    "verify_email",
    deps.config.tokens.emailVerificationTtlSeconds,
    "auth.verification_resent",
  );
  deps.mailer.send(emails.verifyEmail(user.email, emailLink(deps, "verify-email", token)));
}

/**
 * Spends a verification token: marks the address verified, or, for an email change, makes the
 * new address the login (every other emailed link dies with the old address) and tells the old one.
 */
export async function verifyEmail(deps: ServiceDeps, meta: RequestMeta, token: string) {
  const row = await spendEmailToken(deps, token, ["verify_email", "change_email"]);
  const user = await findUserById(deps.db, row.userId);
  if (!user) throw invalidToken();
  const now = deps.now();
  const audit = { ...auditContext(meta), occurredAt: now, userId: user.id, outcome: "success" as const };
  if (row.purpose === "verify_email") {
    await deps.db.batch([
      updateUser(deps.db, user.id, { emailVerifiedAt: user.emailVerifiedAt ?? now, updatedAt: now }),
      insertAudit(deps.db, { ...audit, action: "auth.email_verified" }),
    ]);
    await profileChanged(deps, user.id);
    return;
  }
  const newEmail = row.newEmail as string;
  try {
    await deps.db.batch([
      updateUser(deps.db, user.id, { email: newEmail, emailVerifiedAt: now, updatedAt: now }),
      expireAllUserTokens(deps.db, user.id, now),
      insertAudit(deps.db, {
        ...audit,
        action: "auth.email_changed",
        details: { from_domain: user.email.split("@")[1] },
      }),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) throw fail("email_taken", "That address now belongs to another account.");
    throw err;
  }
  await profileChanged(deps, user.id);
  deps.mailer.send(emails.emailChanged(user.email, greeting(user), newEmail));
}
