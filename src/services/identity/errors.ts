import { fail } from "../../errors";

// Identity failures with their stable codes (docs/contract.md "Errors"); src/http/problems.ts
// gives each its status.

export const invalidCredentials = () => fail("invalid_credentials", "The email or password is incorrect.");

export const invalidToken = () => fail("invalid_token", "The token is unknown, already used or expired.");

export const invalidRefreshToken = () =>
  fail("invalid_refresh_token", "The refresh token is unknown, expired or revoked.");

export const weakPassword = (reasons: string[], field = "password") =>
  fail("weak_password", "The password does not meet the password policy.", {
    errors: reasons.map((message) => ({ path: field, message })),
  });

export const accountLocked = (retryAfterSeconds: number) =>
  fail("account_locked", "Too many failed logins; try again later.", {
    retryAfterSeconds: retryAfterSeconds,
  });

export const invalidMfaToken = () =>
  fail("invalid_mfa_token", "The MFA token is unknown, already used or expired; log in again.");

/** A wrong, reused or unknown TOTP or backup code, at the login step or inside a session. */
export const invalidMfaCode = (during: "login" | "session") =>
  fail("invalid_mfa_code", "The verification code is incorrect, expired or already used.", { during });

export const mfaAlreadyEnabled = () =>
  fail("mfa_already_enabled", "MFA is already on; disable it before setting it up again.");

export const mfaSetupRequired = () => fail("mfa_setup_required", "Start with POST /api/v1/auth/mfa/totp/setup.");

export const mfaNotEnabled = () => fail("mfa_not_enabled", "MFA is not on for this account.");

export const accountDisabled = () =>
  fail("account_disabled", "An administrator has locked this account; contact support.");

export const emailNotVerified = () => fail("email_not_verified", "Verify your email address before logging in.");

/** Ten wrong re-authentications in a row end the session (docs/contract.md "Identity"). */
export const sessionEndedByReauth = () =>
  fail("session_revoked", "Too many wrong passwords: this session has ended; log in again.");
