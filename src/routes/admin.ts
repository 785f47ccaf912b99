import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin, requireAuth } from "../http/auth";
import { depsOf } from "../http/deps";
import { BODY_PROBLEMS, createRouter, jsonBodyOf, jsonContent, problems } from "../http/openapi";
import { authOf, metaOf } from "../http/request";
import { auditEvents, rotateGlobalTokens } from "../services/admin/security";
import {
  adminRevokeSessions,
  getUser,
  listUsersPage,
  patchUser,
  removeUser,
  restoreHome,
  rotateUserTokens,
} from "../services/admin/users";
import { TRACE_ID } from "../trace";
import { Limit, Location, User } from "../wire/identity";

const tags = ["Administration"];
const security = [{ bearerAuth: [] }];
const guard = [requireAuth(), requireAdmin()];
const ADMIN_PROBLEMS = [401, 403, 429] as const;

const AdminUser = User.extend({
  locked: z.boolean().openapi({
    description:
      "An administrator's lock: login answers 403 `account_disabled` until an administrator lifts it (a password reset does not). Failed-login lockouts are per client and not shown here.",
  }),
  locked_at: z.string().nullable().openapi({ format: "date-time" }),
  session_count: z.number().int(),
}).openapi("AdminUser");

const UserId = z.object({ id: z.string().min(1).max(100) });
const Cursor = z.string().max(500).optional();
const Timestamp = z.iso.datetime({ offset: true, error: "must be an RFC 3339 timestamp" });

const AuditEvent = z
  .object({
    id: z.string(),
    occurred_at: z.string().openapi({ format: "date-time" }),
    action: z.string(),
    outcome: z.enum(["success", "failure", "denied"]),
    user_id: z.string().nullable(),
    actor_id: z.string().nullable(),
    session_id: z.string().nullable(),
    request_id: z.string().nullable(),
    trace_id: z.string().nullable().openapi({
      description: "The W3C trace of the request, cron tick or queue delivery that did it (docs/operations.md).",
    }),
    method: z.string().nullable(),
    path: z.string().nullable(),
    ip_address: z.string().nullable(),
    user_agent: z.string().nullable(),
    location: Location,
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi("AuditEvent");

const routes = {
  list: createRoute({
    operationId: "adminListUsers",
    method: "get",
    path: "/users",
    tags,
    security,
    summary: "Users, newest first; `q` searches email and name.",
    middleware: guard,
    request: {
      query: z.object({ limit: Limit(100, 20), cursor: Cursor, q: z.string().trim().min(1).max(100).optional() }),
    },
    responses: {
      200: jsonContent(
        z.object({ users: z.array(AdminUser.omit({ session_count: true })), next_cursor: z.string().nullable() }),
        "A page of users.",
      ),
      ...problems(...ADMIN_PROBLEMS, 422),
    },
  }),
  get: createRoute({
    operationId: "adminGetUser",
    method: "get",
    path: "/users/{id}",
    tags,
    security,
    summary: "One user, with lock state and live session count.",
    middleware: guard,
    request: { params: UserId },
    responses: { 200: jsonContent(AdminUser, "The user."), ...problems(...ADMIN_PROBLEMS, 404) },
  }),
  patch: createRoute({
    operationId: "adminUpdateUser",
    method: "patch",
    path: "/users/{id}",
    tags,
    security,
    summary: "Promote/demote and lock/unlock; idempotent. Locking ends every session at once.",
    description:
      "`locked: true` is an administrator's lock, kept apart from the failed-login lockout: the lock is written first, then every session ends; login and refresh answer 403 `account_disabled` until `locked: false`. A password reset does not lift it.",
    middleware: guard,
    request: {
      params: UserId,
      body: jsonBodyOf(
        z
          .object({ role: z.enum(["user", "admin"]).optional(), locked: z.boolean().optional() })
          .strict()
          .refine((b) => b.role !== undefined || b.locked !== undefined, "send role and/or locked"),
      ),
    },
    responses: {
      200: jsonContent(AdminUser, "The user now."),
      ...problems(...ADMIN_PROBLEMS, ...BODY_PROBLEMS, 404, 409),
    },
  }),
  remove: createRoute({
    operationId: "adminDeleteUser",
    method: "delete",
    path: "/users/{id}",
    tags,
    security,
    summary: "Delete a user and their data; they are emailed (with your message, escaped). Not yourself, not an admin.",
    middleware: guard,
    request: {
      params: UserId,
      body: {
        required: false,
        content: { "application/json": { schema: z.object({ message: z.string().trim().max(2000).optional() }) } },
      },
    },
    responses: { 204: { description: "Deleted." }, ...problems(...ADMIN_PROBLEMS, ...BODY_PROBLEMS, 404, 409) },
  }),
  revoke: createRoute({
    operationId: "adminRevokeSessions",
    method: "post",
    path: "/users/{id}/revoke-sessions",
    tags,
    security,
    summary: "End every session of the user at once.",
    middleware: guard,
    request: { params: UserId },
    responses: {
      200: jsonContent(z.object({ revoked: z.number().int() }), "Count revoked."),
      ...problems(...ADMIN_PROBLEMS, 404),
    },
  }),
  restoreHome: createRoute({
    operationId: "adminRestoreUserHome",
    method: "post",
    path: "/users/{id}/restore-home",
    tags,
    security,
    summary: "Restore the user's home (ledger, sync runs, limits) to a moment of the last 30 days.",
    description:
      "Durable Objects point-in-time recovery (docs/backup-restore.md). The home restarts at that moment and is brought back in line with the directory at once: access tokens issued before the restore are refused (live sessions refresh once; revoked ones cannot), sessions revoked since are revoked again, the token version is kept, connections deleted since lose their data again, and a user deleted meanwhile has their home erased again (404). The next sync of each connection brings the ledger up to date; clients following the change feed should start again from an empty cursor. `undo_bookmark` is the home's state just before the restore. Audited as `admin.home_restored`. 501 `restore_not_supported` where the storage keeps no history (local development).",
    middleware: guard,
    request: {
      params: UserId,
      body: jsonBodyOf(
        z
          .object({
            at: Timestamp.openapi({ description: "The moment to go back to: in the past, within 30 days." }),
            reason: z.string().trim().min(3).max(500),
          })
          .strict(),
      ),
    },
    responses: {
      200: jsonContent(
        z.object({ restored_to: z.string(), undo_bookmark: z.string() }),
        "The home restarted at that moment.",
      ),
      ...problems(...ADMIN_PROBLEMS, ...BODY_PROBLEMS, 404, 501),
    },
  }),
  rotateUser: createRoute({
    operationId: "adminRotateUserTokens",
    method: "post",
    path: "/users/{id}/rotate-tokens",
    tags,
    security,
    summary: "Per-user token rotation: every access and refresh token of the user stops working at once.",
    middleware: guard,
    request: { params: UserId },
    responses: {
      200: jsonContent(z.object({ token_version: z.number().int() }), "The user's new token version."),
      ...problems(...ADMIN_PROBLEMS, 404),
    },
  }),
  rotateGlobal: createRoute({
    operationId: "adminRotateAllTokens",
    method: "post",
    path: "/security/rotate-tokens",
    tags,
    security,
    summary: "Global rotation: refresh tokens issued before stop at once, access tokens within 60 s.",
    middleware: guard,
    request: { body: jsonBodyOf(z.object({ reason: z.string().trim().min(3).max(500) })) },
    responses: {
      200: jsonContent(z.object({ global_token_version: z.number().int() }), "The new global version."),
      ...problems(...ADMIN_PROBLEMS, ...BODY_PROBLEMS),
    },
  }),
  audit: createRoute({
    operationId: "adminListAuditEvents",
    method: "get",
    path: "/audit-events",
    tags,
    security,
    summary: "The audit trail, newest first, filtered by user, action, trace and time [since, until).",
    middleware: guard,
    request: {
      query: z.object({
        user_id: z.string().max(100).optional(),
        action: z.string().max(100).optional(),
        trace_id: z
          .string()
          .regex(TRACE_ID, "must be 32 lower-case hex digits")
          .optional()
          .openapi({ description: "Everything one piece of work did, from a cron tick to the user's home." }),
        since: Timestamp.optional(),
        until: Timestamp.optional(),
        limit: Limit(200, 50),
        cursor: Cursor,
      }),
    },
    responses: {
      200: jsonContent(
        z.object({ events: z.array(AuditEvent), next_cursor: z.string().nullable() }),
        "A page of events.",
      ),
      ...problems(...ADMIN_PROBLEMS, 422),
    },
  }),
};

export const adminRoutes = createRouter()
  .openapi(routes.list, async (c) => {
    const q = c.req.valid("query");
    return c.json(await listUsersPage(depsOf(c), q.q, q.limit, q.cursor), 200);
  })
  .openapi(routes.get, async (c) => c.json(await getUser(depsOf(c), c.req.valid("param").id), 200))
  .openapi(routes.patch, async (c) =>
    c.json(await patchUser(depsOf(c), metaOf(c), authOf(c), c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(routes.remove, async (c) => {
    const body = c.req.valid("json") ?? {};
    await removeUser(depsOf(c), metaOf(c), authOf(c), c.req.valid("param").id, body.message || null);
    return c.body(null, 204);
  })
  .openapi(routes.revoke, async (c) =>
    c.json({ revoked: await adminRevokeSessions(depsOf(c), metaOf(c), authOf(c), c.req.valid("param").id) }, 200),
  )
  .openapi(routes.restoreHome, async (c) =>
    c.json(await restoreHome(depsOf(c), metaOf(c), authOf(c), c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(routes.rotateUser, async (c) =>
    c.json({ token_version: await rotateUserTokens(depsOf(c), metaOf(c), authOf(c), c.req.valid("param").id) }, 200),
  )
  .openapi(routes.rotateGlobal, async (c) =>
    c.json(
      { global_token_version: await rotateGlobalTokens(depsOf(c), metaOf(c), authOf(c), c.req.valid("json").reason) },
      200,
    ),
  )
  .openapi(routes.audit, async (c) => {
    const q = c.req.valid("query");
    return c.json(
      await auditEvents(depsOf(c), {
        userId: q.user_id,
        action: q.action,
        traceId: q.trace_id,
        since: q.since ? new Date(q.since) : undefined,
        until: q.until ? new Date(q.until) : undefined,
        limit: q.limit,
        cursor: q.cursor,
      }),
      200,
    );
  });
