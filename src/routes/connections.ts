import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { accepts } from "hono/accepts";
import type { AppEnv } from "../http/app-env";
import { requireAuth } from "../http/auth";
import { depsOf } from "../http/deps";
import { BODY_PROBLEMS, createRouter, jsonBodyOf, jsonContent, problems } from "../http/openapi";
import { authOf, metaOf } from "../http/request";
import { validationError } from "../http/validation";
import {
  MAX_CONNECTIONS_PER_USER,
  STATE_TTL_SECONDS,
  startConnect,
  startReauthorize,
} from "../services/connections/authorize";
import { completeAuthorization } from "../services/connections/callback";
import { invalidState } from "../services/connections/errors";
import { handOff, handOffParams } from "../services/connections/handoff";
import { deleteConnection, getConnection, listConnections, renameConnection } from "../services/connections/manage";
import {
  Alias,
  AuthorizationStart,
  CallbackBody,
  CallbackQuery,
  Connection,
  ConnectionId,
  HandOffBody,
  InstitutionId,
  ProviderSlug,
  ReturnTo,
  SandboxLogin,
  Scenario,
  SetupToken,
} from "../wire/connections";
import { notConnectedPage, postMessagePage, returnToAppPage } from "./callback-page";

const tags = ["Connections"];
const security = [{ bearerAuth: [] }];
const idParam = z.object({ id: ConnectionId });
const ConnectionBody = z.object({ connection: Connection });

const routes = {
  create: createRoute({
    operationId: "createConnection",
    method: "post",
    path: "/",
    tags,
    security,
    // docs/contract.md "Defaults": connecting a provider is limited to 5 per user per minute.
    middleware: [requireAuth({ rule: "connect_provider" })] as const,
    summary: "Connect a provider, in its kind of link (`auth_type`).",
    description: `Three kinds of link (\`auth_type\` in GET /api/v1/providers):

- \`oauth2\` (Schwab, Alpaca): creates a \`pending\` connection and returns the provider's
  \`authorization_url\` (authorization code with PKCE S256 where the provider supports it).
- \`bank_consent\` (GoCardless): send \`institution_id\` (GET /api/v1/institutions). Creates a
  \`pending\` connection, an end-user agreement (all the history and the longest access the bank
  allows) and a requisition, and returns the bank's consent page as \`authorization_url\`.
- \`setup_token\` (SimpleFIN): send the \`setup_token\` the person copied from their bridge. It is
  claimed at once (422 \`setup_token_invalid\` when it is not one, 409 \`setup_token_claimed\` when it
  was already used) and the connection is \`active\`; \`authorization_url\`, \`state\` and
  \`expires_in\` are null. The token and the access URL it gives are never shown or logged.

For the two redirect kinds, send the user's browser to \`authorization_url\`. The provider (or the
bank) sends it back to \`GET /api/v1/connections/callback\`, which completes nothing: it hands
\`code\` and \`state\` back to your app (for a bank, \`code\` is the word \`consent\`), which
completes the connection with \`POST /api/v1/connections/callback\` under the same user's access
token. How the hand-off reaches your app:

- \`return_to\`: the browser is redirected there with \`code\` (or \`error\`) and \`state\` added to
  its query. It must match \`CONNECT_RETURN_URLS\` exactly (scheme, host, port, path; your own query
  is kept); outside production \`http://localhost:*\` and \`http://127.0.0.1:*\` are allowed. Else 422.
- a web app at an origin in \`CORS_ALLOWED_ORIGINS\` that opened the authorization URL in a popup
  (this request's \`Origin\` header names it): the callback page posts
  \`{type: "ledgerlink.connect", state, code | error}\` to \`window.opener\` at that origin only.
- otherwise a page asks the person to return to the app.

The \`state\` is single use, expires after ${STATE_TTL_SECONDS / 60} minutes and is bound to you and the
provider; the PKCE verifier never leaves the server (RFC 7636).
A pending connection that is never completed is deleted after a day. At most ${MAX_CONNECTIONS_PER_USER}
connections per user (409 \`connection_limit_reached\`). A provider that is not offered here (see
\`GET /api/v1/providers\`) answers 422 \`provider_not_available\`; one listed without its credentials
422 \`provider_not_configured\`. \`scenario\` and \`login\` are accepted for the sandboxes only, and
\`institution_id\` / \`setup_token\` only for their kind of link.`,
    request: {
      body: jsonBodyOf(
        z.object({
          provider: ProviderSlug,
          alias: Alias.nullable().optional(),
          return_to: ReturnTo.optional(),
          institution_id: InstitutionId.optional(),
          setup_token: SetupToken.optional(),
          scenario: Scenario.optional(),
          login: SandboxLogin.optional(),
        }),
      ),
    },
    responses: {
      201: jsonContent(
        z.object({ connection: Connection, ...AuthorizationStart }),
        "Created; send the user to `authorization_url` (null: a setup token, already active).",
      ),
      ...problems(...BODY_PROBLEMS, 401, 409, 429),
    },
  }),
  list: createRoute({
    operationId: "listConnections",
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
    operationId: "handOffConnectionCallback",
    method: "get",
    path: "/callback",
    tags,
    security: [],
    summary: "Where the provider sends the browser back: hands `code` and `state` to the app that started it.",
    description: `Completes nothing (a browser is no proof of who started the flow). It redirects to the
flow's \`return_to\` with \`code\` (or \`error\`) and \`state\` in the query (302), or answers a page that
posts them to the opener window at the app's origin, or a page asking the person to return to the app.
With \`Accept: application/json\` it answers the hand-off itself: \`{state, code}\` or \`{state, error}\`.
The app then calls \`POST /api/v1/connections/callback\`. 400 \`invalid_state\` when the state is
unknown, used or expired (start again); 422 \`validation_failed\` when \`state\` or both \`code\` and
\`error\` are missing.`,
    request: { query: CallbackQuery },
    responses: {
      200: {
        description: "The hand-off: JSON for API clients, else a page (posting to the opener, or asking to return).",
        content: {
          "application/json": { schema: HandOffBody },
          "text/html": { schema: z.string().openapi({ description: "A page; it never completes anything." }) },
        },
      },
      302: { description: "Redirect to the flow's `return_to`, with `code` or `error`, and `state`, in the query." },
      ...problems(400, 422),
    },
  }),
  callbackPost: createRoute({
    operationId: "completeConnection",
    method: "post",
    path: "/callback",
    tags,
    security,
    middleware: [requireAuth()] as const,
    summary: "Complete a connection with the `code` (or `error`) and `state` the hand-off gave your app.",
    description: `Only the user who started the flow can complete it: another user's state answers 404
\`not_found\` and is not spent, so its owner can still finish. 400 \`invalid_state\` (unknown, used or
expired: start again), \`authorization_denied\` (the person declined at the provider; send \`error\`),
\`authorization_failed\` (the provider refused the code); 502 \`provider_error\`; 503
\`provider_unavailable\`. Every refusal is audited.`,
    request: { body: jsonBodyOf(CallbackBody) },
    responses: {
      200: jsonContent(ConnectionBody, "Connected."),
      ...problems(...BODY_PROBLEMS, 401, 404, 429, 502),
    },
  }),
  get: createRoute({
    operationId: "getConnection",
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
    operationId: "renameConnection",
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
    operationId: "deleteConnection",
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
    operationId: "reauthorizeConnection",
    method: "post",
    path: "/{id}/reauthorize",
    tags,
    security,
    // Each reauthorization calls the provider (a bank consent: three calls): it shares the
    // connect budget, so one user cannot spend the deployment's outbound budget for everyone.
    middleware: [requireAuth({ rule: "connect_provider" })] as const,
    summary: "Link a connection again, in its provider's kind of link; it keeps its id and its data.",
    description: `For a connection in \`reauth_required\`, \`error\` or \`pending\` (an abandoned connect), or
whose credentials or consent end soon (\`reauth_recommended\`: Schwab's refresh token dies 7 days after
the login, a bank consent after its agreement's days). A healthy connection answers 409
\`reauth_not_needed\`. For the redirect kinds it answers a new \`authorization_url\` (a bank consent
makes a new requisition at the same bank); any earlier outstanding state of the connection stops
working; complete it through the callback as for a new connection. For a setup token, send a new
\`setup_token\`: it is claimed at once and the answer's \`connection\` is \`active\`. The body is
optional otherwise: \`return_to\` as for a new connection, \`scenario\`/\`login\` for the sandboxes only.`,
    request: {
      params: idParam,
      body: {
        required: false,
        content: {
          "application/json": {
            schema: z.object({
              return_to: ReturnTo.optional(),
              setup_token: SetupToken.optional(),
              scenario: Scenario.optional(),
              login: SandboxLogin.optional(),
            }),
          },
        },
      },
    },
    responses: {
      200: jsonContent(
        z.object({ connection: Connection, ...AuthorizationStart }),
        "Send the user to `authorization_url` (null: a setup token, already active).",
      ),
      ...problems(...BODY_PROBLEMS, 401, 404, 409, 429),
    },
  }),
};

/** The hand-off page's script nonce, made by the security-headers middleware for this response. */
const nonceOf = (c: Context<AppEnv>) => (c.get("secureHeadersNonce") as string | undefined) ?? "";

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
    const input = {
      ...body,
      returnTo: body.return_to,
      institutionId: body.institution_id,
      setupToken: body.setup_token,
      openerOrigin: c.req.header("Origin"),
    };
    return c.json(await startConnect(depsOf(c), metaOf(c), userId, input), 201);
  })
  .openapi(routes.list, async (c) => c.json({ connections: await listConnections(depsOf(c), authOf(c).userId) }, 200))
  // Registered before `/{id}` so that "callback" is never read as an id.
  .openapi(
    routes.callbackGet,
    async (c) => {
      const answer = await handOff(depsOf(c), c.req.valid("query"));
      if (wantsJson(c)) {
        if (answer.kind === "expired") throw invalidState();
        return c.json(handOffParams(c.req.valid("query")), 200);
      }
      switch (answer.kind) {
        case "redirect":
          return c.redirect(answer.location, 302);
        case "post_message":
          return c.html(postMessagePage(answer.origin, answer.message, answer.providerName, nonceOf(c)), 200);
        case "return_to_app":
          return c.html(returnToAppPage(answer.providerName, nonceOf(c)), 200);
        default: {
          const err = invalidState();
          return c.html(notConnectedPage(err.detail, err.code, nonceOf(c)), 400);
        }
      }
    },
    (result, c) => {
      if (result.success) return;
      const error = validationError(result.error, "query");
      if (wantsJson(c)) throw error;
      return c.html(
        notConnectedPage("The provider's answer is missing its code or state.", error.code, nonceOf(c)),
        422,
      );
    },
  )
  .openapi(routes.callbackPost, async (c) => {
    const connection = await completeAuthorization(depsOf(c), metaOf(c), authOf(c).userId, c.req.valid("json"));
    return c.json({ connection }, 200);
  })
  .openapi(routes.get, async (c) =>
    c.json(await getConnection(depsOf(c), authOf(c).userId, c.req.valid("param").id), 200),
  )
  .openapi(routes.rename, async (c) => {
    const { id } = c.req.valid("param");
    const { alias } = c.req.valid("json");
    return c.json(await renameConnection(depsOf(c), metaOf(c), authOf(c).userId, id, alias), 200);
  })
  .openapi(routes.remove, async (c) => {
    await deleteConnection(depsOf(c), metaOf(c), authOf(c).userId, c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(routes.reauthorize, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json") ?? {};
    const choice = {
      ...body,
      returnTo: body.return_to,
      setupToken: body.setup_token,
      openerOrigin: c.req.header("Origin"),
    };
    return c.json(await startReauthorize(depsOf(c), metaOf(c), authOf(c).userId, id, choice), 200);
  });
