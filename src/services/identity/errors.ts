import { ApiError } from "../../http/errors";

// Identity failures with their API.md codes. ApiError is transport-neutral data (status, code,
// detail), so services may raise it without knowing about Hono.

export const invalidCredentials = () => new ApiError(401, "invalid_credentials", "The email or password is incorrect.");

export const invalidToken = () => new ApiError(400, "invalid_token", "The token is unknown, already used or expired.");

export const invalidRefreshToken = () =>
  new ApiError(401, "invalid_refresh_token", "The refresh token is unknown, expired or revoked.");

export const weakPassword = (reasons: string[], field = "password") =>
  new ApiError(422, "weak_password", "The password does not meet the password policy.", {
    errors: reasons.map((message) => ({ path: field, message })),
  });

export const accountLocked = (retryAfterSeconds: number) =>
  new ApiError(423, "account_locked", "Too many failed logins; try again later.", {
    headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });

export const invalidMfaToken = () =>
  new ApiError(401, "invalid_mfa_token", "The MFA token is unknown, already used or expired; log in again.");

/** A wrong, reused or unknown TOTP or backup code: 401 on the login step, 400 when logged in. */
export const invalidMfaCode = (status: 400 | 401) =>
  new ApiError(status, "invalid_mfa_code", "The verification code is incorrect, expired or already used.");

export const mfaAlreadyEnabled = () =>
  new ApiError(409, "mfa_already_enabled", "MFA is already on; disable it before setting it up again.");

export const mfaSetupRequired = () =>
  new ApiError(409, "mfa_setup_required", "Start with POST /api/v1/auth/mfa/totp/setup.");

export const mfaNotEnabled = () => new ApiError(409, "mfa_not_enabled", "MFA is not on for this account.");

export const accountDisabled = () =>
  new ApiError(403, "account_disabled", "An administrator has locked this account; contact support.");

export const emailNotVerified = () =>
  new ApiError(403, "email_not_verified", "Verify your email address before logging in.");

/** Ten wrong re-authentications in a row end the session (API.md "Identity"). */
export const sessionEndedByReauth = () =>
  new ApiError(401, "session_revoked", "Too many wrong passwords: this session has ended; log in again.");
