/**
 * Multi-factor authentication with TOTP (RFC 6238) and single-use backup codes.
 *
 * - The secret is 160 random bits, stored only as keyring ciphertext bound to the user and field.
 * - Codes are accepted for now ± 1 step (clock drift); a step once used is refused again.
 * - Backup codes are stored only as HMAC-SHA-256 under a server key (a stolen table alone cannot
 *   be searched for 50-bit codes) and work once.
 * - Wrong codes at login count toward the client's lockout like wrong passwords.
 * - Wrong codes anywhere (login, deletion, MFA off, export, email and password changes) spend
 *   the account's own budget (`mfa_user`, counted in the user's home), whatever addresses they
 *   come from; a login challenge dies after 5 wrong codes (docs/security.md, second pass item 2).
 * - Setting up and turning off need the password (re-authentication, ASVS 5.0 V7.5.1).
 * - Turning MFA on or off is a credential change: outstanding emailed links stop working and the
 *   owner is told by email.
 */
import { type EncryptionContext, KeyringError } from "../../crypto/keyring";
import { base64url, sha256Hex } from "../../crypto/random";
import { base32Decode, matchTotp, newTotpSecret, otpauthUrl } from "../../crypto/totp";
import { insertAudit } from "../../db/audit";
import { expireAllUserTokens } from "../../db/email-tokens";
import {
  claimTotpStep,
  consumeBackupCode,
  deleteBackupCodes,
  deleteUserMfaChallenges,
  findLiveMfaChallenge,
  insertBackupCodes,
  spendMfaChallenge,
} from "../../db/mfa";
import { findUserById, type UserRow, updateUser } from "../../db/users";
import { emails, greeting } from "../../email/templates";
import { gateUnavailable, notFound } from "../../errors";
import { CHALLENGE_MAX_FAILURES } from "../../home/second-factor";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { refuseIfLimited } from "../limits";
import {
  accountDisabled,
  invalidMfaCode,
  invalidMfaToken,
  mfaAlreadyEnabled,
  mfaNotEnabled,
  mfaSetupRequired,
} from "./errors";
import { clearFailures, countFailure, refuseIfLocked } from "./lockout";
import { profileChanged } from "./profile";
import { reauthenticate } from "./reauth";
import { newSession, type TokenResponse, tokenResponse } from "./tokens";

export const TOTP_ISSUER = "Ledgerlink";
export const BACKUP_CODE_COUNT = 10;

/** AAD of the TOTP secret; part of the ciphertext binding, so never rename it. */
export const secretContext = (userId: string): EncryptionContext => ({
  userId,
  connectionId: "mfa",
  field: "totp_secret",
});

/** A second factor as submitted: a TOTP code or a backup code. */
export interface Factor {
  code?: string | undefined;
  backupCode?: string | undefined;
}

type Auth = { userId: string; sessionId: string };

/** Backup codes read `xxxxx-xxxxx` (50 random bits); compared without case, spaces or dashes. */
const normalizeBackupCode = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, "");

/** A backup code at rest: HMAC-SHA-256 under the server's backup-code key. */
async function hashBackupCode(deps: ServiceDeps, code: string): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    deps.config.tokens.backupCodeKey,
    new TextEncoder().encode(`mfa_backup:${normalizeBackupCode(code)}`),
  );
  return `h1.${base64url(new Uint8Array(mac))}`;
}

/** Codes issued before keyed hashing were stored as plain SHA-256; they still work once. */
const legacyBackupHash = (code: string) => sha256Hex(`mfa_backup:${normalizeBackupCode(code)}`);

function newBackupCode(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  const raw = [...crypto.getRandomValues(new Uint8Array(10))].map((b) => alphabet[b & 31]).join("");
  return `${raw.slice(0, 5)}-${raw.slice(5)}`;
}

async function openSecret(deps: ServiceDeps, user: UserRow): Promise<Uint8Array | null> {
  if (!user.mfaTotpSecretEnc) return null;
  try {
    const secret = await deps.config.encryption.keyring.decrypt(user.mfaTotpSecretEnc, secretContext(user.id));
    return base32Decode(secret);
  } catch (err) {
    // A secret that no longer opens (key retired, row tampered) matches no code.
    if (err instanceof KeyringError) return null;
    throw err;
  }
}

/**
 * Checks and spends a factor atomically: the TOTP step is claimed (newer than the last used) or
 * the backup code marked used, so of two racing requests with the same code only one succeeds.
 */
async function spendFactor(
  deps: ServiceDeps,
  user: UserRow,
  factor: Factor,
  now: Date,
): Promise<{ method: "totp" | "backup_code" } | null> {
  if (factor.backupCode !== undefined) {
    const hashes = [await hashBackupCode(deps, factor.backupCode), await legacyBackupHash(factor.backupCode)];
    const used = await consumeBackupCode(deps.db, user.id, hashes, now);
    return used ? { method: "backup_code" } : null;
  }
  if (factor.code === undefined) return null;
  const key = await openSecret(deps, user);
  if (!key) return null;
  const step = await matchTotp(key, factor.code, now, { afterStep: user.mfaTotpLastStep });
  if (step === null) return null;
  return (await claimTotpStep(deps.db, user.id, step)) ? { method: "totp" } : null;
}

/** A second-factor check's place: the account, and the login challenge when there is one. */
interface FactorSite {
  userId: string;
  challenge: { id: string; expiresAt: number } | null;
}

/**
 * Before a code is checked: 429 when the account's budget of wrong answers is spent; `false`
 * when the login challenge already died of wrong codes. Unreachable home: 503 (fail closed).
 */
async function secondFactorOpen(deps: ServiceDeps, meta: RequestMeta, site: FactorSite): Promise<boolean> {
  let gate: Awaited<ReturnType<ServiceDeps["homes"]["secondFactorGate"]>>;
  try {
    gate = await deps.homes.secondFactorGate(site.userId, site.challenge?.id ?? null);
  } catch (err) {
    deps.logger.error("home unreachable; second factor refused (fail closed)", { error: String(err) });
    throw gateUnavailable(err);
  }
  refuseIfLimited(deps, meta, [gate], ["user"], site.userId);
  return !gate.challengeDead;
}

/** After a wrong code: spends the account's budget; a challenge at its 5th wrong code dies. */
async function secondFactorWrong(deps: ServiceDeps, site: FactorSite, now: Date) {
  let counted: Awaited<ReturnType<ServiceDeps["homes"]["secondFactorFailed"]>>;
  try {
    counted = await deps.homes.secondFactorFailed(site.userId, site.challenge);
  } catch (err) {
    deps.logger.error("home unreachable; wrong second factor not counted (fail closed)", { error: String(err) });
    throw gateUnavailable(err);
  }
  if (site.challenge && counted.challengeFailures >= CHALLENGE_MAX_FAILURES) {
    await spendMfaChallenge(deps.db, site.challenge.id, site.userId, now);
  }
}

async function loadUser(deps: ServiceDeps, userId: string): Promise<UserRow> {
  const user = await findUserById(deps.db, userId);
  if (!user) throw notFound("user");
  return user;
}

/**
 * Starts (or restarts) TOTP setup with the password: a new pending secret, not active until
 * confirmed. Without the password a stolen session could bind its own authenticator.
 */
export async function setupTotp(deps: ServiceDeps, meta: RequestMeta, auth: Auth, password: string) {
  const user = await loadUser(deps, auth.userId);
  await reauthenticate(deps, meta, auth, user, password, "auth.mfa_setup");
  if (user.mfaEnabled) throw mfaAlreadyEnabled();
  const now = deps.now();
  const secret = newTotpSecret();
  const sealed = await deps.config.encryption.keyring.encrypt(secret, secretContext(user.id));
  await deps.db.batch([
    updateUser(deps.db, user.id, { mfaTotpSecretEnc: sealed, mfaTotpLastStep: null, updatedAt: now }),
    insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action: "auth.mfa_setup",
      outcome: "success",
      userId: user.id,
      sessionId: auth.sessionId,
      details: { method: "totp" },
    }),
  ]);
  await profileChanged(deps, user.id);
  return { secret, otpauth_url: otpauthUrl(TOTP_ISSUER, user.email, secret) };
}

/** Confirms the pending secret with a code: MFA goes on and 10 fresh backup codes are returned once. */
export async function enableTotp(deps: ServiceDeps, meta: RequestMeta, auth: Auth, code: string) {
  const user = await loadUser(deps, auth.userId);
  if (user.mfaEnabled) throw mfaAlreadyEnabled();
  if (!user.mfaTotpSecretEnc) throw mfaSetupRequired();
  const now = deps.now();
  const base = { ...auditContext(meta), occurredAt: now, userId: user.id, sessionId: auth.sessionId };
  const key = await openSecret(deps, user);
  const step = key ? await matchTotp(key, code, now, { afterStep: user.mfaTotpLastStep }) : null;
  if (step === null) {
    await insertAudit(deps.db, {
      ...base,
      action: "auth.mfa_enabled",
      outcome: "failure",
      details: { reason: "bad_code" },
    });
    throw invalidMfaCode("session");
  }
  const codes = Array.from({ length: BACKUP_CODE_COUNT }, newBackupCode);
  const hashes = await Promise.all(codes.map((c) => hashBackupCode(deps, c)));
  await deps.db.batch([
    // The confirming code's step counts as used, so it cannot also complete a login.
    updateUser(deps.db, user.id, { mfaEnabled: true, mfaTotpLastStep: step, updatedAt: now }),
    deleteBackupCodes(deps.db, user.id),
    insertBackupCodes(deps.db, user.id, hashes, now),
    expireAllUserTokens(deps.db, user.id, now),
    insertAudit(deps.db, { ...base, action: "auth.mfa_enabled", outcome: "success", details: { method: "totp" } }),
  ]);
  await profileChanged(deps, user.id);
  deps.mailer.send(emails.mfaChanged(user.email, greeting(user), true));
  return { backup_codes: codes };
}

/** The second login step: a live `mfa_token` plus a TOTP or backup code gives the tokens. */
export async function verifyMfa(
  deps: ServiceDeps,
  meta: RequestMeta,
  input: { mfaToken: string } & Factor,
): Promise<TokenResponse> {
  const now = deps.now();
  const tokenHash = await sha256Hex(input.mfaToken);
  const challenge = await findLiveMfaChallenge(deps.db, tokenHash, now);
  const user = challenge ? await findUserById(deps.db, challenge.userId) : undefined;
  const base = { ...auditContext(meta), occurredAt: now, userId: user?.id ?? null };
  if (!user?.mfaEnabled) {
    await insertAudit(deps.db, {
      ...base,
      action: "auth.mfa_verified",
      outcome: "failure",
      details: { reason: "invalid_mfa_token" },
    });
    throw invalidMfaToken();
  }
  const attempt = { email: user.email, user };
  const site = { userId: user.id, challenge: { id: tokenHash, expiresAt: challenge?.expiresAt.getTime() ?? 0 } };
  await refuseIfLocked(deps, meta, attempt, "auth.mfa_verified");
  if (!(await secondFactorOpen(deps, meta, site))) throw invalidMfaToken();
  const spent = await spendFactor(deps, user, input, now);
  if (!spent) {
    await secondFactorWrong(deps, site, now);
    return countFailure(deps, meta, attempt, {
      action: "auth.mfa_verified",
      reason: input.backupCode !== undefined ? "bad_backup_code" : "bad_totp_code",
      error: () => invalidMfaCode("login"),
    });
  }
  // An administrator may have locked the account since the password step.
  if (user.disabledAt) {
    await insertAudit(deps.db, {
      ...base,
      action: "auth.mfa_verified",
      outcome: "denied",
      details: { reason: "account_disabled" },
    });
    throw accountDisabled();
  }
  // Single use: of two racing verifications with valid codes only one spends the token.
  if (!(await spendMfaChallenge(deps.db, tokenHash, user.id, now))) throw invalidMfaToken();

  await clearFailures(deps, meta, user.email, { known: true });
  const { session, refreshToken, inserts } = await newSession(deps.db, deps.config, meta, user, now);
  const done = { ...base, sessionId: session.id, outcome: "success" as const };
  await deps.db.batch([
    ...inserts,
    insertAudit(deps.db, { ...done, action: "auth.mfa_verified", details: { method: spent.method } }),
    ...(spent.method === "backup_code" ? [insertAudit(deps.db, { ...done, action: "auth.mfa_backup_code_used" })] : []),
    insertAudit(deps.db, { ...done, action: "auth.login", details: { mfa: spent.method } }),
  ]);
  return tokenResponse(deps.config, user, session.id, refreshToken, now);
}

/**
 * A logged-in user's current TOTP or backup code, for what needs more than the password (turning
 * MFA off, deleting the account, exporting it, changing its email or password). Null when MFA is
 * off. A missing code is refused without counting; a wrong one counts toward the client's lockout
 * and spends the account's budget of wrong answers.
 */
export async function confirmSecondFactor(
  deps: ServiceDeps,
  meta: RequestMeta,
  auth: Auth,
  user: UserRow,
  factor: Factor,
  action: string,
): Promise<{ method: "totp" | "backup_code" } | null> {
  if (!user.mfaEnabled) return null;
  if (factor.code === undefined && factor.backupCode === undefined) throw invalidMfaCode("session");
  const site = { userId: user.id, challenge: null };
  await secondFactorOpen(deps, meta, site);
  const now = deps.now();
  const spent = await spendFactor(deps, user, factor, now);
  if (spent) return spent;
  await secondFactorWrong(deps, site, now);
  return countFailure(
    deps,
    meta,
    { email: user.email, user, sessionId: auth.sessionId },
    {
      action,
      reason: factor.backupCode !== undefined ? "bad_backup_code" : "bad_totp_code",
      error: () => invalidMfaCode("session"),
    },
  );
}

/**
 * Turns MFA off with the password and a current TOTP or backup code. Sessions are left alone.
 * Wrong passwords and codes count toward the client's lockout, and a locked client cannot
 * disable MFA.
 */
export async function disableMfa(
  deps: ServiceDeps,
  meta: RequestMeta,
  auth: Auth,
  input: { password: string } & Factor,
) {
  const user = await loadUser(deps, auth.userId);
  const now = deps.now();
  const base = { ...auditContext(meta), occurredAt: now, userId: user.id, sessionId: auth.sessionId };
  await reauthenticate(deps, meta, auth, user, input.password, "auth.mfa_disabled");
  const spent = await confirmSecondFactor(deps, meta, auth, user, input, "auth.mfa_disabled");
  if (!spent) throw mfaNotEnabled();
  await deps.db.batch([
    updateUser(deps.db, user.id, {
      mfaEnabled: false,
      mfaTotpSecretEnc: null,
      mfaTotpLastStep: null,
      updatedAt: now,
    }),
    deleteBackupCodes(deps.db, user.id),
    deleteUserMfaChallenges(deps.db, user.id),
    expireAllUserTokens(deps.db, user.id, now),
    ...(spent.method === "backup_code"
      ? [insertAudit(deps.db, { ...base, action: "auth.mfa_backup_code_used", outcome: "success" })]
      : []),
    insertAudit(deps.db, {
      ...base,
      action: "auth.mfa_disabled",
      outcome: "success",
      details: { method: spent.method },
    }),
  ]);
  await profileChanged(deps, user.id);
  deps.mailer.send(emails.mfaChanged(user.email, greeting(user), false));
}
