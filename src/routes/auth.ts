import { createRoute, z } from "@hono/zod-openapi";
import { requireAuth } from "../http/auth";
import { BODY_PROBLEMS, createRouter, jsonBodyOf, jsonContent, problems } from "../http/openapi";
import { applyRateLimitHeaders, rateLimit } from "../http/rate-limit";
import { authOf, depsOf, metaOf } from "../http/services";
import { login } from "../services/identity/login";
import { disableMfa, enableTotp, setupTotp, verifyMfa } from "../services/identity/mfa";
import { changePassword, requestPasswordReset, resetPassword } from "../services/identity/passwords";
import { getMe, requestEmailChange, updateName } from "../services/identity/profile";
import { logout, refresh } from "../services/identity/refresh";
import { register, resendVerification, verifyEmail } from "../services/identity/registration";
import { securityEvents } from "../services/identity/security-events";
import {
  BackupCodes,
  Email,
  Limit,
  Message,
  MfaDisableBody,
  MfaRequired,
  MfaVerifyBody,
  Name,
  Password,
  SecurityEvent,
  Token,
  TokenResponse,
  TotpCode,
  TotpSetup,
  User,
} from "./identity-schemas";

const tags = ["Identity"];
const security = [{ bearerAuth: [] }];
const accepted = (description: string) => jsonContent(Message, description);
const ACCEPTED = "Accepted. The same answer whether or not the account exists.";

const routes = {
  register: createRoute({
    method: "post",
    path: "/register",
    tags,
    middleware: [rateLimit([{ rule: "register_ip", by: "ip" }])] as const,
    summary: "Create an account; a verification email follows.",
    request: { body: jsonBodyOf(z.object({ email: Email, password: Password, name: Name })) },
    responses: { 202: accepted(ACCEPTED), ...problems(...BODY_PROBLEMS, 429) },
  }),
  verifyEmail: createRoute({
    method: "post",
    path: "/verify-email",
    tags,
    middleware: [rateLimit([{ rule: "token_submit_ip", by: "ip" }])] as const,
    summary: "Confirm an email address (sign-up or email change) with the emailed token.",
    request: { body: jsonBodyOf(z.object({ token: Token })) },
    responses: {
      200: jsonContent(z.object({ email_verified: z.literal(true) }), "Verified."),
      ...problems(...BODY_PROBLEMS, 409, 429),
    },
  }),
  resend: createRoute({
    method: "post",
    path: "/resend-verification",
    tags,
    middleware: [rateLimit([{ rule: "email_request_ip", by: "ip" }])] as const,
    summary: "Send a fresh verification email to an unverified account.",
    request: { body: jsonBodyOf(z.object({ email: Email })) },
    responses: { 202: accepted(ACCEPTED), ...problems(...BODY_PROBLEMS, 429) },
  }),
  login: createRoute({
    method: "post",
    path: "/login",
    tags,
    middleware: [
      rateLimit([
        { rule: "login_ip", by: "ip" },
        { rule: "login_email", by: "email" },
      ]),
    ] as const,
    summary: "Log in with email and password; creates a session, or asks for a second factor when MFA is on.",
    description:
      "When MFA is on, a correct password answers `{mfa_required: true, mfa_token, methods}` instead of tokens; " +
      "complete the login with POST /api/v1/auth/mfa/verify.",
    request: { body: jsonBodyOf(z.object({ email: Email, password: Password })) },
    responses: {
      200: jsonContent(z.union([TokenResponse, MfaRequired]), "Logged in, or MFA required."),
      ...problems(...BODY_PROBLEMS, 401, 403, 423, 429),
    },
  }),
  refresh: createRoute({
    method: "post",
    path: "/refresh",
    tags,
    summary: "Rotate the refresh token and get a new access token (same session).",
    request: { body: jsonBodyOf(z.object({ refresh_token: z.string().min(1).max(200) })) },
    responses: { 200: jsonContent(TokenResponse, "New tokens."), ...problems(...BODY_PROBLEMS, 401, 429) },
  }),
  logout: createRoute({
    method: "post",
    path: "/logout",
    tags,
    security,
    summary: "End this session: its access and refresh tokens stop working at once.",
    middleware: [requireAuth()] as const,
    responses: { 204: { description: "Logged out." }, ...problems(401, 429) },
  }),
  requestReset: createRoute({
    method: "post",
    path: "/request-password-reset",
    tags,
    middleware: [rateLimit([{ rule: "email_request_ip", by: "ip" }])] as const,
    summary: "Email a password-reset link if the account exists.",
    request: { body: jsonBodyOf(z.object({ email: Email })) },
    responses: { 202: accepted(ACCEPTED), ...problems(...BODY_PROBLEMS, 429) },
  }),
  resetPassword: createRoute({
    method: "post",
    path: "/reset-password",
    tags,
    middleware: [rateLimit([{ rule: "token_submit_ip", by: "ip" }])] as const,
    summary: "Set a new password with the emailed token; every session is revoked.",
    request: { body: jsonBodyOf(z.object({ token: Token, new_password: Password })) },
    responses: {
      200: jsonContent(z.object({ password_reset: z.literal(true) }), "Password reset."),
      ...problems(...BODY_PROBLEMS, 429),
    },
  }),
  me: createRoute({
    method: "get",
    path: "/me",
    tags,
    security,
    summary: "The logged-in user.",
    middleware: [requireAuth()] as const,
    responses: { 200: jsonContent(User, "The user."), ...problems(401, 429) },
  }),
  updateMe: createRoute({
    method: "patch",
    path: "/me",
    tags,
    security,
    summary: "Update the display name.",
    middleware: [requireAuth()] as const,
    request: { body: jsonBodyOf(z.object({ name: Name })) },
    responses: { 200: jsonContent(User, "The updated user."), ...problems(...BODY_PROBLEMS, 401, 429) },
  }),
  changeEmail: createRoute({
    method: "post",
    path: "/change-email",
    tags,
    security,
    summary: "Start an email change; the new address must be verified before it replaces the old.",
    middleware: [requireAuth()] as const,
    request: { body: jsonBodyOf(z.object({ new_email: Email, current_password: Password })) },
    responses: { 202: accepted("Verification sent to the new address."), ...problems(...BODY_PROBLEMS, 401, 429) },
  }),
  changePassword: createRoute({
    method: "post",
    path: "/change-password",
    tags,
    security,
    summary: "Change the password; every other session is revoked. Refresh this session's tokens afterwards.",
    middleware: [requireAuth()] as const,
    request: { body: jsonBodyOf(z.object({ current_password: Password, new_password: Password })) },
    responses: {
      200: jsonContent(
        z.object({ password_changed: z.literal(true), revoked_sessions: z.number().int() }),
        "Changed; the count of sessions revoked.",
      ),
      ...problems(...BODY_PROBLEMS, 401, 429),
    },
  }),
  mfaSetup: createRoute({
    method: "post",
    path: "/mfa/totp/setup",
    tags,
    security,
    summary: "Start TOTP setup: a new secret and otpauth:// URL for an authenticator app.",
    description:
      "The secret stays pending until confirmed with POST /mfa/totp/enable; calling again replaces it. " +
      "409 `mfa_already_enabled` when MFA is on.",
    middleware: [requireAuth()] as const,
    responses: { 200: jsonContent(TotpSetup, "The pending secret."), ...problems(401, 409, 429) },
  }),
  mfaEnable: createRoute({
    method: "post",
    path: "/mfa/totp/enable",
    tags,
    security,
    summary: "Confirm the pending TOTP secret with a current code; MFA goes on and backup codes are returned.",
    description:
      "400 `invalid_mfa_code`; 409 `mfa_setup_required` (no pending secret) or `mfa_already_enabled`. " +
      "Codes of the previous, current and next 30-second step are accepted.",
    middleware: [requireAuth()] as const,
    request: { body: jsonBodyOf(z.object({ code: TotpCode })) },
    responses: {
      200: jsonContent(BackupCodes, "MFA is on; the backup codes, shown once."),
      ...problems(...BODY_PROBLEMS, 401, 409, 429),
    },
  }),
  mfaVerify: createRoute({
    method: "post",
    path: "/mfa/verify",
    tags,
    middleware: [rateLimit([{ rule: "login_ip", by: "ip" }])] as const,
    summary: "Second login step: the `mfa_token` from login plus a TOTP code or a backup code.",
    description:
      "Send exactly one of `code` and `backup_code`. 401 `invalid_mfa_token` (unknown, used or older than 5 minutes) " +
      "or `invalid_mfa_code` (wrong, or a code or step already used); wrong codes count toward the lockout " +
      "(423 `account_locked`). The token is spent by the successful verification.",
    request: { body: jsonBodyOf(MfaVerifyBody) },
    responses: { 200: jsonContent(TokenResponse, "Logged in."), ...problems(...BODY_PROBLEMS, 401, 423, 429) },
  }),
  mfaDisable: createRoute({
    method: "post",
    path: "/mfa/disable",
    tags,
    security,
    summary: "Turn MFA off with the password and a current TOTP code (or a backup code).",
    description:
      "401 `invalid_credentials` (wrong password); 400 `invalid_mfa_code` (counts toward the lockout); " +
      "409 `mfa_not_enabled`; 423 `account_locked`. Sessions are left alone.",
    middleware: [requireAuth()] as const,
    request: { body: jsonBodyOf(MfaDisableBody) },
    responses: { 204: { description: "MFA is off." }, ...problems(...BODY_PROBLEMS, 401, 409, 423, 429) },
  }),
  securityEvents: createRoute({
    method: "get",
    path: "/security-events",
    tags,
    security,
    summary: "The user's own security log, newest first.",
    middleware: [requireAuth()] as const,
    request: { query: z.object({ limit: Limit(100, 20), cursor: z.string().max(500).optional() }) },
    responses: {
      200: jsonContent(
        z.object({ events: z.array(SecurityEvent), next_cursor: z.string().nullable() }),
        "A page of events.",
      ),
      ...problems(401, 422, 429),
    },
  }),
};

export const authRoutes = createRouter()
  .openapi(routes.register, async (c) => {
    await register(depsOf(c), metaOf(c), c.req.valid("json"));
    return c.json({ message: "Check your inbox to confirm your email address." }, 202);
  })
  .openapi(routes.verifyEmail, async (c) => {
    await verifyEmail(depsOf(c), metaOf(c), c.req.valid("json").token);
    return c.json({ email_verified: true as const }, 200);
  })
  .openapi(routes.resend, async (c) => {
    await resendVerification(depsOf(c), metaOf(c), c.req.valid("json").email);
    return c.json({ message: "If the account exists and is unverified, a new link is on its way." }, 202);
  })
  .openapi(routes.login, async (c) => c.json(await login(depsOf(c), metaOf(c), c.req.valid("json")), 200))
  .openapi(routes.refresh, async (c) => {
    const { tokens, rate } = await refresh(depsOf(c), metaOf(c), c.req.valid("json").refresh_token);
    if (rate) applyRateLimitHeaders(c, [rate]);
    return c.json(tokens, 200);
  })
  .openapi(routes.logout, async (c) => {
    const auth = authOf(c);
    await logout(depsOf(c), metaOf(c), auth.userId, auth.sessionId);
    return c.body(null, 204);
  })
  .openapi(routes.requestReset, async (c) => {
    await requestPasswordReset(depsOf(c), metaOf(c), c.req.valid("json").email);
    return c.json({ message: "If the account exists, a reset link is on its way." }, 202);
  })
  .openapi(routes.resetPassword, async (c) => {
    const body = c.req.valid("json");
    await resetPassword(depsOf(c), metaOf(c), body.token, body.new_password);
    return c.json({ password_reset: true as const }, 200);
  })
  .openapi(routes.me, async (c) => c.json(await getMe(depsOf(c), authOf(c).userId), 200))
  .openapi(routes.updateMe, async (c) =>
    c.json(await updateName(depsOf(c), metaOf(c), authOf(c).userId, c.req.valid("json").name), 200),
  )
  .openapi(routes.changeEmail, async (c) => {
    const body = c.req.valid("json");
    await requestEmailChange(depsOf(c), metaOf(c), authOf(c), {
      newEmail: body.new_email,
      currentPassword: body.current_password,
    });
    return c.json({ message: "Confirm the new address from the email we sent it." }, 202);
  })
  .openapi(routes.changePassword, async (c) => {
    const body = c.req.valid("json");
    const result = await changePassword(depsOf(c), metaOf(c), authOf(c), {
      currentPassword: body.current_password,
      newPassword: body.new_password,
    });
    return c.json({ password_changed: true as const, revoked_sessions: result.revokedSessionIds.length }, 200);
  })
  .openapi(routes.mfaSetup, async (c) => c.json(await setupTotp(depsOf(c), metaOf(c), authOf(c)), 200))
  .openapi(routes.mfaEnable, async (c) =>
    c.json(await enableTotp(depsOf(c), metaOf(c), authOf(c), c.req.valid("json").code), 200),
  )
  .openapi(routes.mfaVerify, async (c) => {
    const body = c.req.valid("json");
    const tokens = await verifyMfa(depsOf(c), metaOf(c), {
      mfaToken: body.mfa_token,
      code: body.code,
      backupCode: body.backup_code,
    });
    return c.json(tokens, 200);
  })
  .openapi(routes.mfaDisable, async (c) => {
    const body = c.req.valid("json");
    await disableMfa(depsOf(c), metaOf(c), authOf(c), {
      password: body.password,
      code: body.code,
      backupCode: body.backup_code,
    });
    return c.body(null, 204);
  })
  .openapi(routes.securityEvents, async (c) => {
    const q = c.req.valid("query");
    return c.json(await securityEvents(depsOf(c), authOf(c).userId, q.limit, q.cursor), 200);
  });
