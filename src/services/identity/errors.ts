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
