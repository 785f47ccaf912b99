import { and, eq, isNull, lte, or, sql } from "drizzle-orm";
import { randomToken, sha256Hex } from "../../crypto/random";
import { insertAudit } from "../../db/audit";
import { insertMfaChallenge } from "../../db/mfa";
import { users } from "../../db/schema";
import { findUserByEmail, type UserRow, updateUser } from "../../db/users";
import { emails } from "../../email/templates";
import { ApiError } from "../../http/errors";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { accountLocked, invalidCredentials } from "./errors";
import { newSession, type TokenResponse, tokenResponse } from "./tokens";
import { normalizeEmail } from "./users";

/**
 * Password login. Unknown email and wrong password answer alike and cost the same hashing work;
 * 10 consecutive failures lock the account for an hour; the password is checked before
 * verification or lock state is revealed.
 */
export async function login(
  deps: ServiceDeps,
  meta: RequestMeta,
  input: { email: string; password: string },
): Promise<TokenResponse | MfaRequired> {
  const email = normalizeEmail(input.email);
  const user = await findUserByEmail(deps.db, email);
  const now = deps.now();
  const audit = (outcome: "success" | "failure" | "denied", details?: Record<string, unknown>, action = "auth.login") =>
    insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action,
      outcome,
      userId: user?.id ?? null,
      details,
    });

  if (!user) {
    await deps.passwords.verifyPassword(input.password, await deps.passwords.dummyHash());
    // Raw emails stay out of the audit trail; a hash still lets operators correlate attempts.
    await audit("failure", { reason: "unknown_email", email_sha256: await sha256Hex(email) });
    throw invalidCredentials();
  }

  const check = await deps.passwords.verifyPassword(input.password, user.passwordHash);
  if (user.lockedUntil && user.lockedUntil > now) {
    await audit("denied", { reason: "locked" });
    throw accountLocked((user.lockedUntil.getTime() - now.getTime()) / 1000);
  }
  if (!check.ok) return failedLogin(deps, meta, user, now);
  if (!user.emailVerifiedAt) {
    await audit("denied", { reason: "email_not_verified" });
    throw new ApiError(403, "email_not_verified", "Verify your email address before logging in.");
  }

  if (user.mfaEnabled) {
    return mfaChallenge(deps, meta, user, now, check.needsRehash ? input.password : null);
  }

  const { session, refreshToken, inserts } = await newSession(deps.db, deps.config, meta, user, now);
  const patch: Partial<UserRow> = { failedLoginCount: 0, lockedUntil: null };
  // A hash made with older parameters is upgraded now that we know the password.
  if (check.needsRehash) patch.passwordHash = await deps.passwords.hashPassword(input.password);
  await deps.db.batch([
    ...inserts,
    updateUser(deps.db, user.id, patch),
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

/** API.md: the login answer when MFA is on; `mfa_token` goes to POST /auth/mfa/verify. */
export interface MfaRequired {
  mfa_required: true;
  mfa_token: string;
  methods: ("totp" | "backup_code")[];
}

/** Lifetime of an `mfa_token`. */
export const MFA_TOKEN_TTL_SECONDS = 300;

/**
 * The password was right but a second factor is due: a short-lived, single-use challenge bound to
 * the user (stored as SHA-256). The failure count is NOT reset here, or alternating a right
 * password with wrong codes would never lock.
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

/** How a failure is recorded: the audit action, its reason, and the error when not (yet) locked. */
export interface FailureKind {
  action: string;
  reason: string;
  error: () => ApiError;
}

const BAD_PASSWORD: FailureKind = { action: "auth.login", reason: "bad_password", error: invalidCredentials };

/**
 * Counts a failed credential check (password or MFA code) toward the lockout, audits it, and
 * throws: the kind's error, or 423 once the threshold is reached.
 */
export async function failedLogin(
  deps: ServiceDeps,
  meta: RequestMeta,
  user: UserRow,
  now: Date,
  kind: FailureKind = BAD_PASSWORD,
): Promise<never> {
  const { threshold, durationSeconds } = deps.config.lockout;
  // Atomic increment; a lock that has run out starts the count again.
  const counted = await deps.db
    .update(users)
    .set({
      failedLoginCount: sql`CASE WHEN ${users.lockedUntil} IS NOT NULL AND ${users.lockedUntil} <= ${now.getTime()} THEN 1 ELSE ${users.failedLoginCount} + 1 END`,
      updatedAt: now,
    })
    .where(eq(users.id, user.id))
    .returning({ count: users.failedLoginCount })
    .get();
  const base = { ...auditContext(meta), occurredAt: now, userId: user.id };
  if ((counted?.count ?? 0) < threshold) {
    await insertAudit(deps.db, {
      ...base,
      action: kind.action,
      outcome: "failure",
      details: { reason: kind.reason },
    });
    throw kind.error();
  }
  const until = new Date(now.getTime() + durationSeconds * 1000);
  // Only the request that sets the lock reports it, however many failures race.
  const locked = await deps.db
    .update(users)
    .set({ lockedUntil: until, failedLoginCount: 0, updatedAt: now })
    .where(and(eq(users.id, user.id), or(isNull(users.lockedUntil), lte(users.lockedUntil, now))))
    .returning({ id: users.id })
    .get();
  if (locked) {
    await deps.db.batch([
      insertAudit(deps.db, { ...base, action: kind.action, outcome: "failure", details: { reason: kind.reason } }),
      insertAudit(deps.db, {
        ...base,
        action: "auth.lockout",
        outcome: "success",
        details: { until: until.toISOString() },
      }),
    ]);
    await deps.email.send(emails.accountLocked(user.email, user.name, Math.round(durationSeconds / 60)));
  }
  throw accountLocked(durationSeconds);
}
