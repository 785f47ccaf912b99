import { createRoute, z } from "@hono/zod-openapi";
import { ownDataOrNull, requireAuth } from "../http/auth";
import { authMetric } from "../http/auth-metric";
import { depsOf } from "../http/deps";
import { BODY_PROBLEMS, createRouter, jsonBodyOf, jsonContent, problems } from "../http/openapi";
import { applyRateLimitHeaders, rateLimit } from "../http/rate-limit";
import { authOf, metaOf } from "../http/request";
import { deleteOwnAccount } from "../services/identity/delete-account";
import { requestEmailChange } from "../services/identity/email-change";
import { exportAccount } from "../services/identity/export";
import { login } from "../services/identity/login";
import { disableMfa, enableTotp, setupTotp, verifyMfa } from "../services/identity/mfa";
import { changePassword, requestPasswordReset, resetPassword } from "../services/identity/passwords";
import { myProfile, uncachedProfile, updateName } from "../services/identity/profile";
import { register, resendVerification, verifyEmail } from "../services/identity/registration";
import { securityEvents } from "../services/identity/security-events";
import { logout, refresh } from "../services/identity/session-refresh";
import {
  AccountDeleteBody,
  BackupCodes,
  ChangeEmailBody,
  ChangePasswordBody,
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
} from "../wire/identity";

const tags = ["Identity"];
const security = [{ bearerAuth: [] }];
const accepted = (description: string) => jsonContent(Message, description);
const ACCEPTED =
  "Accepted. The same answer, in the same time, whether or not the account exists; at most 5 emails of one kind go to an address per hour.";
const REAUTH =
  "`current_password` re-authenticates: a wrong one answers 401 `invalid_credentials` and counts toward this client's lockout (423 `account_locked`); ten wrong in a row end the session (401 `session_revoked`). With MFA on, a current `code` (or a `backup_code`) is needed too: missing or wrong, 400 `invalid_mfa_code`; wrong codes spend the account's budget (429 once spent). Every emailed link sent before this change stops working.";

const routes = {
  register: createRoute({
    operationId: "register",
    security: [],
    method: "post",
    path: "/register",
    tags,
    middleware: [rateLimit([{ rule: "register_ip", by: "ip" }])] as const,
    summary: "Create an account; a verification email follows.",
    request: { body: jsonBodyOf(z.object({ email: Email, password: Password, name: Name })) },
    responses: { 202: accepted(ACCEPTED), ...problems(...BODY_PROBLEMS, 429) },
  }),
  verifyEmail: createRoute({
    operationId: "verifyEmail",
    security: [],
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
    operationId: "resendVerification",
    security: [],
    method: "post",
    path: "/resend-verification",
    tags,
    middleware: [rateLimit([{ rule: "email_request_ip", by: "ip" }])] as const,
    summary: "Send a fresh verification email to an unverified account.",
    request: { body: jsonBodyOf(z.object({ email: Email })) },
    responses: { 202: accepted(ACCEPTED), ...problems(...BODY_PROBLEMS, 429) },
  }),
  login: createRoute({
    operationId: "login",
    security: [],
    method: "post",
    path: "/login",
    tags,
    // The per-address budget (login_email) is the service's: only failures spend it.
    middleware: [authMetric("login"), rateLimit([{ rule: "login_ip", by: "ip" }], { failClosed: true })] as const,
    summary: "Log in with email and password; creates a session, or asks for a second factor when MFA is on.",
    description:
      "When MFA is on, a correct password answers `{mfa_required: true, mfa_token, methods}` instead of tokens; " +
      "complete the login with POST /api/v1/auth/mfa/verify.\n\n" +
      "Lockout is per client: 10 failures in a row for one address from one client (its IP, or for IPv6 its /64) lock " +
      "that client out of that address for an hour (423 `account_locked` with `Retry-After`), whether or not an " +
      "account exists; other clients are not affected, and a success resets the client's count. Guessing from many " +
      "clients is bounded by the per-address limit (20 per 15 minutes). 401 `invalid_credentials` (unknown address " +
      "or wrong password, alike); 403 `email_not_verified`, or `account_disabled` when an administrator locked the " +
      "account (both only after a correct password).",
    request: { body: jsonBodyOf(z.object({ email: Email, password: Password })) },
    responses: {
      200: jsonContent(z.union([TokenResponse, MfaRequired]), "Logged in, or MFA required."),
      ...problems(...BODY_PROBLEMS, 401, 403, 423, 429),
    },
  }),
  refresh: createRoute({
    operationId: "refreshTokens",
    security: [],
    method: "post",
    path: "/refresh",
    middleware: [authMetric("refresh")] as const,
    tags,
    summary: "Rotate the refresh token and get a new access token (same session).",
    description:
      "Every use rotates the refresh token. Presenting an already-rotated token revokes the whole session " +
      "(401 `refresh_token_reused`, RFC 9700 §4.14.2), except within `REFRESH_REUSE_GRACE_SECONDS` (10 s) of its " +
      "rotation: then the same successor is returned again, so two requests racing with one token both succeed " +
      "(the grace answer is audited as `auth.refresh` with `grace: true`). 403 `account_disabled` when an " +
      "administrator has locked the account. Limited to 10 per session per minute.",
    request: { body: jsonBodyOf(z.object({ refresh_token: z.string().min(1).max(200) })) },
    responses: { 200: jsonContent(TokenResponse, "New tokens."), ...problems(...BODY_PROBLEMS, 401, 403, 429) },
  }),
  logout: createRoute({
    operationId: "logout",
    method: "post",
    path: "/logout",
    tags,
    security,
    summary: "End this session: its access and refresh tokens stop working at once.",
    middleware: [requireAuth()] as const,
    responses: { 204: { description: "Logged out." }, ...problems(401, 429) },
  }),
  requestReset: createRoute({
    operationId: "requestPasswordReset",
    security: [],
    method: "post",
    path: "/request-password-reset",
    tags,
    middleware: [rateLimit([{ rule: "email_request_ip", by: "ip" }])] as const,
    summary: "Email a password-reset link if the account exists.",
    request: { body: jsonBodyOf(z.object({ email: Email })) },
    responses: { 202: accepted(ACCEPTED), ...problems(...BODY_PROBLEMS, 429) },
  }),
  resetPassword: createRoute({
    operationId: "resetPassword",
    security: [],
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
    operationId: "getMe",
    method: "get",
    path: "/me",
    tags,
    security,
    summary: "The logged-in user.",
    // The cached profile in the authorization's call; D1 when the home cannot be reached.
    middleware: [requireAuth({ read: () => ({ kind: "profile" }), orD1: true })] as const,
    responses: { 200: jsonContent(User, "The user."), ...problems(401, 429, 503) },
  }),
  updateMe: createRoute({
    operationId: "updateMe",
    method: "patch",
    path: "/me",
    tags,
    security,
    summary: "Update the display name.",
    middleware: [requireAuth()] as const,
    request: { body: jsonBodyOf(z.object({ name: Name })) },
    responses: { 200: jsonContent(User, "The updated user."), ...problems(...BODY_PROBLEMS, 401, 429) },
  }),
  deleteMe: createRoute({
    operationId: "deleteMe",
    method: "delete",
    path: "/me",
    tags,
    security,
    summary: "Delete your account and everything it owns.",
    description:
      "Erases the account everywhere: the user, sessions, emailed links, MFA codes, connections with their stored provider credentials, and the synced ledger (accounts, holdings, transactions, the change feed, sync runs). Every token of the account stops working at once and open event sockets close. Prove it with `password`, and with MFA on also a current `code` (or a `backup_code`). " +
      "A wrong password answers 401 `invalid_credentials` and counts toward this client's lockout; with MFA on, a missing or wrong code answers 400 `invalid_mfa_code`. A confirmation email goes to the address. The audit trail keeps the deletion's record with no personal data (docs/contract.md \"Your data\").",
    middleware: [requireAuth()] as const,
    request: { body: jsonBodyOf(AccountDeleteBody) },
    responses: { 204: { description: "Erased." }, ...problems(...BODY_PROBLEMS, 400, 401, 423, 429) },
  }),
  exportMe: createRoute({
    operationId: "exportMyData",
    method: "post",
    path: "/me/export",
    tags,
    security,
    summary: "Download your data (NDJSON, streamed), proving it is you.",
    description:
      "A complete dump needs more than an access token: prove it with `password`, and with MFA on also a current `code` (or a `backup_code`), exactly as for deleting the account (wrong answers count the same way). " +
      "Everything the account owns, one JSON record `{type, data}` a line, streamed so any size fits: first `export` (`{version, generated_at}`), then `user`, `session`s, `security_event`s, `connection`s (never credentials), `account`s, `holding`s, `transaction`s and `balance`s (daily balance points with their `account_id`; the same shapes as their endpoints), and last `end` (`{records}`, the count before it). A download without the `end` line was cut short: ask again. Nothing of any other user is ever in it.",
    middleware: [requireAuth()] as const,
    request: { body: jsonBodyOf(AccountDeleteBody) },
    responses: {
      200: {
        description: "The export, `application/x-ndjson`, as an attachment.",
        content: { "application/x-ndjson": { schema: z.string().openapi({ format: "binary" }) } },
      },
      ...problems(...BODY_PROBLEMS, 400, 401, 404, 423, 429),
    },
  }),
  changeEmail: createRoute({
    operationId: "changeEmail",
    method: "post",
    path: "/change-email",
    tags,
    security,
    summary: "Start an email change; the new address must be verified before it replaces the old.",
    description: REAUTH,
    middleware: [requireAuth()] as const,
    request: { body: jsonBodyOf(ChangeEmailBody) },
    responses: {
      202: accepted("Verification sent to the new address."),
      ...problems(...BODY_PROBLEMS, 400, 401, 423, 429),
    },
  }),
  changePassword: createRoute({
    operationId: "changePassword",
    method: "post",
    path: "/change-password",
    tags,
    security,
    summary: "Change the password; every other session is revoked, this one keeps working as it is.",
    description: REAUTH,
    middleware: [requireAuth()] as const,
    request: { body: jsonBodyOf(ChangePasswordBody) },
    responses: {
      200: jsonContent(
        z.object({ password_changed: z.literal(true), revoked_sessions: z.number().int() }),
        "Changed; the count of sessions revoked.",
      ),
      ...problems(...BODY_PROBLEMS, 400, 401, 423, 429),
    },
  }),
  mfaSetup: createRoute({
    operationId: "setupTotp",
    method: "post",
    path: "/mfa/totp/setup",
    tags,
    security,
    summary: "Start TOTP setup with your password: a new secret and otpauth:// URL for an authenticator app.",
    description:
      "Needs the account's `password` (re-authentication: a wrong one counts toward this client's lockout, and ten " +
      "wrong in a row end the session with 401 `session_revoked`). The secret stays pending until confirmed with " +
      "POST /mfa/totp/enable; calling again replaces it. 401 `invalid_credentials`; 409 `mfa_already_enabled` when " +
      "MFA is on; 423 `account_locked`.",
    middleware: [requireAuth()] as const,
    request: { body: jsonBodyOf(z.object({ password: Password })) },
    responses: {
      200: jsonContent(TotpSetup, "The pending secret."),
      ...problems(...BODY_PROBLEMS, 401, 409, 423, 429),
    },
  }),
  mfaEnable: createRoute({
    operationId: "enableTotp",
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
    operationId: "verifyMfa",
    security: [],
    method: "post",
    path: "/mfa/verify",
    tags,
    middleware: [authMetric("mfa_verify"), rateLimit([{ rule: "login_ip", by: "ip" }], { failClosed: true })] as const,
    summary: "Second login step: the `mfa_token` from login plus a TOTP code or a backup code.",
    // 403 when an administrator locked the account after the password step.
    description:
      "Send exactly one of `code` and `backup_code`. 401 `invalid_mfa_token` (unknown, used or older than 5 minutes) " +
      "or `invalid_mfa_code` (wrong, or a code or step already used); wrong codes count toward the lockout " +
      "(423 `account_locked`). The token is spent by the successful verification.",
    request: { body: jsonBodyOf(MfaVerifyBody) },
    responses: {
      200: jsonContent(TokenResponse, "Logged in."),
      ...problems(...BODY_PROBLEMS, 401, 403, 423, 429),
    },
  }),
  mfaDisable: createRoute({
    operationId: "disableMfa",
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
    operationId: "listSecurityEvents",
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
  .openapi(routes.me, async (c) =>
    c.json(await myProfile(depsOf(c), authOf(c).userId, ownDataOrNull(c, "profile") ?? uncachedProfile()), 200),
  )
  .openapi(routes.deleteMe, async (c) => {
    const body = c.req.valid("json");
    await deleteOwnAccount(depsOf(c), metaOf(c), authOf(c), {
      password: body.password,
      code: body.code,
      backupCode: body.backup_code,
    });
    return c.body(null, 204);
  })
  .openapi(routes.exportMe, async (c) => {
    const body = c.req.valid("json");
    const stream = await exportAccount(depsOf(c), metaOf(c), authOf(c), {
      password: body.password,
      code: body.code,
      backupCode: body.backup_code,
    });
    const day = depsOf(c).now().toISOString().slice(0, 10);
    // A stream, not JSON: the typed-response helpers describe JSON bodies only.
    return c.body(stream, 200, {
      "Content-Type": "application/x-ndjson; charset=utf-8",
      "Content-Disposition": `attachment; filename="ledgerlink-export-${day}.ndjson"`,
    }) as never;
  })
  .openapi(routes.updateMe, async (c) =>
    c.json(await updateName(depsOf(c), metaOf(c), authOf(c).userId, c.req.valid("json").name), 200),
  )
  .openapi(routes.changeEmail, async (c) => {
    const body = c.req.valid("json");
    await requestEmailChange(depsOf(c), metaOf(c), authOf(c), {
      newEmail: body.new_email,
      currentPassword: body.current_password,
      code: body.code,
      backupCode: body.backup_code,
    });
    return c.json({ message: "Confirm the new address from the email we sent it." }, 202);
  })
  .openapi(routes.changePassword, async (c) => {
    const body = c.req.valid("json");
    const result = await changePassword(depsOf(c), metaOf(c), authOf(c), {
      currentPassword: body.current_password,
      newPassword: body.new_password,
      code: body.code,
      backupCode: body.backup_code,
    });
    return c.json({ password_changed: true as const, revoked_sessions: result.revokedSessionIds.length }, 200);
  })
  .openapi(routes.mfaSetup, async (c) =>
    c.json(await setupTotp(depsOf(c), metaOf(c), authOf(c), c.req.valid("json").password), 200),
  )
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
