import { createRoute, z } from "@hono/zod-openapi";
import { requireAuth } from "../http/auth";
import { depsOf } from "../http/deps";
import { createRouter, jsonContent, problems } from "../http/openapi";
import { authOf, metaOf } from "../http/request";
import { listSessions, revokeOwnSession, revokeSessions } from "../services/sessions";
import { Device, Location } from "../wire/identity";

const tags = ["Sessions"];
const security = [{ bearerAuth: [] }];

const Session = z
  .object({
    id: z.string(),
    current: z.boolean(),
    created_at: z.string().openapi({ format: "date-time" }),
    last_active_at: z.string().openapi({ format: "date-time", description: "Updated at most once a minute." }),
    expires_at: z.string().openapi({ format: "date-time" }),
    ip_address: z.string().nullable(),
    location: Location,
    device: Device,
    user_agent: z.string().nullable(),
  })
  .openapi("Session");

const Revoked = z.object({ revoked: z.number().int() });

const routes = {
  list: createRoute({
    operationId: "listSessions",
    method: "get",
    path: "/",
    tags,
    security,
    summary: "The caller's live sessions, the current one marked.",
    middleware: [requireAuth()] as const,
    responses: { 200: jsonContent(z.object({ sessions: z.array(Session) }), "Sessions."), ...problems(401, 429) },
  }),
  others: createRoute({
    operationId: "revokeOtherSessions",
    method: "delete",
    path: "/others",
    tags,
    security,
    summary: "Revoke every session but the current one.",
    middleware: [requireAuth()] as const,
    responses: { 200: jsonContent(Revoked, "How many were revoked."), ...problems(401, 429) },
  }),
  all: createRoute({
    operationId: "revokeAllSessions",
    method: "delete",
    path: "/all",
    tags,
    security,
    summary: "Revoke every session, the current one too.",
    middleware: [requireAuth()] as const,
    responses: { 200: jsonContent(Revoked, "How many were revoked."), ...problems(401, 429) },
  }),
  one: createRoute({
    operationId: "revokeSession",
    method: "delete",
    path: "/{id}",
    tags,
    security,
    summary: "Revoke one of your other sessions (use logout for the current one).",
    middleware: [requireAuth()] as const,
    request: { params: z.object({ id: z.string().min(1).max(100) }) },
    responses: { 204: { description: "Revoked." }, ...problems(401, 404, 409, 429) },
  }),
};

export const sessionRoutes = createRouter()
  .openapi(routes.list, async (c) => {
    const auth = authOf(c);
    return c.json({ sessions: await listSessions(depsOf(c), auth.userId, auth.sessionId) }, 200);
  })
  .openapi(routes.others, async (c) => {
    const auth = authOf(c);
    const revoked = await revokeSessions(
      depsOf(c),
      metaOf(c),
      { userId: auth.userId, keep: auth.sessionId },
      { actorId: auth.userId, sessionId: auth.sessionId, reason: "revoked_by_user" },
    );
    return c.json({ revoked: revoked.length }, 200);
  })
  .openapi(routes.all, async (c) => {
    const auth = authOf(c);
    const revoked = await revokeSessions(
      depsOf(c),
      metaOf(c),
      { userId: auth.userId },
      { actorId: auth.userId, sessionId: auth.sessionId, reason: "revoked_by_user" },
    );
    return c.json({ revoked: revoked.length }, 200);
  })
  .openapi(routes.one, async (c) => {
    await revokeOwnSession(depsOf(c), metaOf(c), authOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
