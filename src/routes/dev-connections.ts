import { createRoute, z } from "@hono/zod-openapi";
import { requireAuth } from "../http/auth";
import { depsOf } from "../http/deps";
import { devOnly } from "../http/dev-only";
import { BODY_PROBLEMS, createRouter, jsonContent, problems } from "../http/openapi";
import { authOf, metaOf } from "../http/request";
import { freshAccessToken } from "../services/connections/token-refresh";
import { connectionView } from "../services/connections/view";
import { Connection, ConnectionId } from "../wire/connections";

/** 404 in production, before authentication, so the route does not even seem to exist there. */

const refresh = createRoute({
  operationId: "devRefreshConnection",
  method: "post",
  path: "/connections/{id}/refresh",
  tags: ["Development"],
  security: [{ bearerAuth: [] }],
  middleware: [devOnly(), requireAuth()] as const,
  summary: "Development only (404 in production): refresh a connection's provider access token now.",
  description: `Runs the refresh the sync engine runs before calling a provider: only when the access
token is within 5 minutes of expiry, or always with \`force: true\`. Concurrent calls share one
provider refresh. \`refresh_token\` says what the provider did with the refresh token (\`rotated\`,
\`same\`, \`absent\`), or null when this call did not refresh. Provider failures change the connection
as a sync would (e.g. the sandbox's \`revoked\` scenario → \`reauth_required\`, 409). Tokens are never returned.`,
  request: {
    params: z.object({ id: ConnectionId }),
    body: { required: false, content: { "application/json": { schema: z.object({ force: z.boolean().optional() }) } } },
  },
  responses: {
    200: jsonContent(
      z.object({
        connection: Connection,
        refreshed: z.boolean(),
        refresh_token: z.enum(["rotated", "same", "absent"]).nullable(),
      }),
      "The connection after the call.",
    ),
    ...problems(...BODY_PROBLEMS, 401, 404, 409, 502, 429),
  },
});

export const devConnectionRoutes = createRouter().openapi(refresh, async (c) => {
  const deps = depsOf(c);
  const result = await freshAccessToken(deps, metaOf(c), c.req.valid("param").id, {
    userId: authOf(c).userId,
    force: c.req.valid("json").force ?? false,
  });
  return c.json(
    {
      connection: connectionView(result.connection, deps.now(), deps.config.providers),
      refreshed: result.refreshed !== null,
      refresh_token: result.refreshed,
    },
    200,
  );
});
