import type { z } from "zod";
import { randomToken, sha256Hex } from "../../crypto/random";
import { insertAudit } from "../../db/audit";
import { insertMfaChallenge } from "../../db/mfa";
import { findUserByEmail, type UserRow, updateUser } from "../../db/users";
import type { MfaRequired as MfaRequiredSchema } from "../../wire/identity";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { accountDisabled, emailNotVerified, invalidCredentials } from "./errors";
import { clearFailures, countFailure, type FailureKind, refuseIfLocked } from "./lockout";
import { newSession, type TokenResponse, tokenResponse } from "./tokens";
import { normalizeEmail } from "./users";

const BAD_PASSWORD: FailureKind = {
  action: "auth.login",
  reason: "bad_password",
  error: invalidCredentials,
  spendsAddressBudget: true,
};

/**
 * Password login. An unknown address and a wrong password answer alike, cost the same hashing
 * work and the same D1 round trips, and count toward the same per-client lockout; the password
 * is checked before the account's state (unverified, disabled) is revealed.
 */
export async function login(
  deps: ServiceDeps,
  meta: RequestMeta,
  input: { email: string; password: string },
): Promise<TokenResponse | MfaRequired> {
  const email = normalizeEmail(input.email);
  const user = await findUserByEmail(deps.db, email);
  const attempt = { email, user };
  await refuseIfLocked(deps, meta, attempt, "auth.login", { addressBudget: true });
  const check = await deps.passwords.verifyPassword(
    input.password,
    user?.passwordHash ?? (await deps.passwords.dummyHash()),
  );
  if (!user || !check.ok) return countFailure(deps, meta, attempt, BAD_PASSWORD);

  const now = deps.now();
  const denied = async (reason: string) =>
    insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action: "auth.login",
      outcome: "denied",
      userId: user.id,
      details: { reason },
    });
  if (user.disabledAt) {
    await denied("account_disabled");
    throw accountDisabled();
  }
  if (!user.emailVerifiedAt) {
    await denied("email_not_verified");
    throw emailNotVerified();
  }
  // Only after the checks above: the MFA step must still count wrong codes for this client.
  if (user.mfaEnabled) return mfaChallenge(deps, meta, user, now, check.needsRehash ? input.password : null);

  await clearFailures(deps, meta, email, { known: true });
  const { session, refreshToken, inserts } = await newSession(deps.db, deps.config, meta, user, now);
  await deps.db.batch([
    ...inserts,
    // A hash made with older parameters is upgraded now that we know the password.
    ...(check.needsRehash
      ? [updateUser(deps.db, user.id, { passwordHash: await deps.passwords.hashPassword(input.password) })]
      : []),
    insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action: "auth.login",
      outcome: "success",
      userId: user.id,
      sessionId: session.id,
      details: check.needsRehash ? { password_rehashed: true } : null,
    }),
  ]);
  return tokenResponse(deps.config, user, session.id, refreshToken, now);
}

/** The login answer when MFA is on; `mfa_token` goes to POST /auth/mfa/verify (src/wire/identity.ts). */
export type MfaRequired = z.infer<typeof MfaRequiredSchema>;

/** Lifetime of an `mfa_token`. */
export const MFA_TOKEN_TTL_SECONDS = 300;

/**
 * The password was right but a second factor is due: a short-lived, single-use challenge bound to
 * the user (stored as SHA-256). The client's failure count is NOT cleared here, or alternating a
 * right password with wrong codes would never lock.
 */
async function mfaChallenge(
  deps: ServiceDeps,
  meta: RequestMeta,
  user: UserRow,
  now: Date,
  rehashPassword: string | null,
): Promise<MfaRequired> {
  const token = randomToken();
  await deps.db.batch([
    insertMfaChallenge(deps.db, {
      tokenHash: await sha256Hex(token),
      userId: user.id,
      createdAt: now,
      expiresAt: new Date(now.getTime() + MFA_TOKEN_TTL_SECONDS * 1000),
    }),
    ...(rehashPassword
      ? [updateUser(deps.db, user.id, { passwordHash: await deps.passwords.hashPassword(rehashPassword) })]
      : []),
    insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action: "auth.mfa_challenge",
      outcome: "success",
      userId: user.id,
      details: rehashPassword ? { password_rehashed: true } : null,
    }),
  ]);
  return { mfa_required: true, mfa_token: token, methods: ["totp", "backup_code"] };
}
