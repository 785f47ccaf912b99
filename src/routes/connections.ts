import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { accepts } from "hono/accepts";
import type { AppEnv } from "../http/app-env";
import { requireAuth } from "../http/auth";
import { connectionDepsOf } from "../http/connection-deps";
import { ApiError } from "../http/errors";
import { BODY_PROBLEMS, createRouter, jsonBodyOf, jsonContent, problems } from "../http/openapi";
import { authOf, metaOf } from "../http/services";
import { validationError } from "../http/validation";
import {
  MAX_CONNECTIONS_PER_USER,
  STATE_TTL_SECONDS,
  startConnect,
  startReauthorize,
} from "../services/connections/authorize";
import { completeAuthorization } from "../services/connections/callback";
import { deleteConnection, getConnection, listConnections, renameConnection } from "../services/connections/manage";
import { connectedPage, notConnectedPage } from "./callback-page";
import {
  Alias,
  AuthorizationStart,
  CallbackQuery,
  Connection,
  ConnectionId,
  ProviderSlug,
  SandboxLogin,
  Scenario,
} from "./connection-schemas";

const tags = ["Connections"];
const security = [{ bearerAuth: [] }];
const idParam = z.object({ id: ConnectionId });
const ConnectionBody = z.object({ connection: Connection });

const routes = {
  create: createRoute({
    method: "post",
    path: "/",
    tags,
    security,
    // API.md: connecting a provider is limited to 5 per user per minute.
    middleware: [requireAuth({ rule: "connect_provider" })] as const,
    summary: "Start connecting a provider (OAuth 2 authorization code with PKCE S256).",
    description: `Creates a \`pending\` connection and returns the provider's \`authorization_url\`: send the
user's browser there. The provider sends the browser back to \`GET /api/v1/connections/callback\`,
which completes the connection (or, in an app, post the \`code\` and \`state\` to
\`POST /api/v1/connections/callback\`). The \`state\` is single use, expires after ${STATE_TTL_SECONDS / 60}
minutes and is bound to you and the provider; the PKCE verifier never leaves the server (RFC 7636).
A pending connection that is never completed is deleted after a day. At most ${MAX_CONNECTIONS_PER_USER}
connections per user (409 \`connection_limit_reached\`). A provider that is not offered here (see
\`GET /api/v1/providers\`) answers 422 \`provider_not_available\`. \`scenario\` and \`login\` are accepted
for the \`sandbox\` provider only.`,
    request: {
      body: jsonBodyOf(
        z.object({
          provider: ProviderSlug,
          alias: Alias.nullable().optional(),
          scenario: Scenario.optional(),
          login: SandboxLogin.optional(),
        }),
      ),
    },
    responses: {
      201: jsonContent(
        z.object({ connection: Connection, ...AuthorizationStart }),
        "Created; send the user to `authorization_url`.",
      ),
      ...problems(...BODY_PROBLEMS, 401, 409, 429),
    },
  }),
  list: createRoute({
    method: "get",
    path: "/",
    tags,
    security,
    middleware: [requireAuth()] as const,
    summary: "Your connections, oldest first.",
    responses: {
      200: jsonContent(z.object({ connections: z.array(Connection) }), "Your connections."),
      ...problems(401, 429),
    },
  }),
  callbackGet: createRoute({
    method: "get",
    path: "/callback",
    tags,
    summary: "Where the provider sends the browser back (no bearer token needed: the state names the user).",
    description: `Spends the \`state\`, exchanges the \`code\` with the PKCE verifier, stores the tokens
encrypted and marks the connection \`active\`. Answers a small HTML page saying connected or why not;
with \`Accept: application/json\`, the same outcome as JSON (\`{connection}\` or problem+json). The
status is the same either way: 200; 400 \`invalid_state\` (unknown, used, expired: start again),
\`authorization_denied\` (the user declined at the provider) or \`authorization_failed\` (the provider
refused the code); 422 \`validation_failed\`; 502 \`provider_error\`; 503 \`provider_unavailable\`.
Every refusal is audited.`,
    request: { query: CallbackQuery },
    responses: {
      200: {
        description: "Connected.",
        content: {
          "application/json": { schema: ConnectionBody },
          "text/html": { schema: z.string().openapi({ description: "A page saying connected." }) },
        },
      },
      ...problems(400, 422, 502),
    },
  }),
  callbackPost: createRoute({
    method: "post",
    path: "/callback",
    tags,
    security,
    middleware: [requireAuth()] as const,
    summary: "Complete a connection from an app that captured the redirect's `code` and `state`.",
    description: `The state must have been issued to the caller: another user's state answers 400
\`invalid_state\` (like an unknown one) and is audited, and it is not spent, so its owner can still
finish. Other outcomes as for the GET callback.`,
    request: {
      body: jsonBodyOf(z.object({ state: CallbackQuery.shape.state, code: z.string().min(1).max(4096) })),
    },
    responses: { 200: jsonContent(ConnectionBody, "Connected."), ...problems(...BODY_PROBLEMS, 401, 502, 429) },
  }),
  get: createRoute({
    method: "get",
    path: "/{id}",
    tags,
    security,
    middleware: [requireAuth()] as const,
    summary: "One of your connections (another user's answers 404).",
    request: { params: idParam },
    responses: { 200: jsonContent(Connection, "The connection."), ...problems(401, 404, 422, 429) },
  }),
  rename: createRoute({
    method: "patch",
    path: "/{id}",
    tags,
    security,
    middleware: [requireAuth()] as const,
    summary: "Set (or, with null, clear) the connection's alias.",
    request: { params: idParam, body: jsonBodyOf(z.object({ alias: Alias.nullable() })) },
    responses: {
      200: jsonContent(Connection, "The renamed connection."),
      ...problems(...BODY_PROBLEMS, 401, 404, 429),
    },
  }),
  remove: createRoute({
    method: "delete",
    path: "/{id}",
    tags,
    security,
    middleware: [requireAuth()] as const,
    summary: "Delete the connection: its encrypted credentials are destroyed, with its synced data.",
    request: { params: idParam },
    responses: { 204: { description: "Deleted." }, ...problems(401, 404, 422, 429) },
  }),
  reauthorize: createRoute({
    method: "post",
    path: "/{id}/reauthorize",
    tags,
    security,
    middleware: [requireAuth()] as const,
    summary: "A new authorization URL for a connection that needs (or will soon need) re-authorization.",
    description: `For a connection in \`reauth_required\`, \`error\` or \`pending\` (an abandoned connect), or
whose credentials expire soon (\`reauth_recommended\`: Schwab's refresh token dies 7 days after the
login). A healthy connection answers 409 \`reauth_not_needed\`. Any earlier outstanding state of the
connection stops working. Complete it through the callback as for a new connection; the connection
keeps its id. The body is optional (\`scenario\`/\`login\` for the sandbox only).`,
    request: {
      params: idParam,
      body: {
        required: false,
        content: {
          "application/json": {
            schema: z.object({ scenario: Scenario.optional(), login: SandboxLogin.optional() }),
          },
        },
      },
    },
    responses: {
      200: jsonContent(z.object(AuthorizationStart), "Send the user to `authorization_url`."),
      ...problems(...BODY_PROBLEMS, 401, 404, 409, 429),
    },
  }),
};

/** JSON for API clients that ask for it; the HTML page for browsers (and anyone else). */
function wantsJson(c: Context<AppEnv>): boolean {
  const type = accepts(c, {
    header: "Accept",
    supports: ["text/html", "application/json", "application/problem+json"],
    default: "text/html",
  });
  return type !== "text/html";
}

export const connectionRoutes = createRouter()
  .openapi(routes.create, async (c) => {
    const body = c.req.valid("json");
    const userId = authOf(c).userId;
    return c.json(await startConnect(connectionDepsOf(c), metaOf(c), userId, body), 201);
  })
  .openapi(routes.list, async (c) =>
    c.json({ connections: await listConnections(connectionDepsOf(c), authOf(c).userId) }, 200),
  )
  // Registered before `/{id}` so that "callback" is never read as an id.
  .openapi(
    routes.callbackGet,
    async (c) => {
      const deps = connectionDepsOf(c);
      const json = wantsJson(c);
      try {
        const connection = await completeAuthorization(deps, metaOf(c), { via: "browser" }, c.req.valid("query"));
        if (json) return c.json({ connection }, 200);
        const name = deps.providers.get(connection.provider)?.info.name ?? connection.provider;
        return c.html(connectedPage(connection, name), 200);
      } catch (err) {
        if (json || !(err instanceof ApiError)) throw err;
        return c.html(notConnectedPage(err.detail, err.code), err.status, err.options.headers);
      }
    },
    (result, c) => {
      if (result.success) return;
      const error = validationError(result.error, "query");
      if (wantsJson(c)) throw error;
      return c.html(notConnectedPage("The provider's answer is missing its code or state.", error.code), 422);
    },
  )
  .openapi(routes.callbackPost, async (c) => {
    const auth = authOf(c);
    const connection = await completeAuthorization(
      connectionDepsOf(c),
      metaOf(c),
      { via: "api", userId: auth.userId },
      c.req.valid("json"),
    );
    return c.json({ connection }, 200);
  })
  .openapi(routes.get, async (c) =>
    c.json(await getConnection(connectionDepsOf(c), authOf(c).userId, c.req.valid("param").id), 200),
  )
  .openapi(routes.rename, async (c) => {
    const { id } = c.req.valid("param");
    const { alias } = c.req.valid("json");
    return c.json(await renameConnection(connectionDepsOf(c), metaOf(c), authOf(c).userId, id, alias), 200);
  })
  .openapi(routes.remove, async (c) => {
    await deleteConnection(connectionDepsOf(c), metaOf(c), authOf(c).userId, c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(routes.reauthorize, async (c) => {
    const { id } = c.req.valid("param");
    const choice = c.req.valid("json");
    return c.json(await startReauthorize(connectionDepsOf(c), metaOf(c), authOf(c).userId, id, choice), 200);
  });
