import { createRoute, z } from "@hono/zod-openapi";
import { requireAuth } from "../http/auth";
import { depsOf } from "../http/deps";
import { createRouter, jsonContent, problems } from "../http/openapi";
import { ProviderInfo } from "../wire/connections";

const list = createRoute({
  operationId: "listProviders",
  method: "get",
  path: "/",
  tags: ["Connections"],
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth()] as const,
  summary: "The providers you can connect here.",
  description: `\`schwab\` when this deployment has Schwab client credentials; \`sandbox\` (a simulated
Schwab with selectable \`scenarios\`) outside production. Pass a \`slug\` to POST /api/v1/connections.`,
  responses: {
    200: jsonContent(z.object({ providers: z.array(ProviderInfo) }), "Offered providers."),
    ...problems(401, 429),
  },
});

export const providerRoutes = createRouter().openapi(list, (c) => {
  const providers = depsOf(c)
    .providers.list()
    .map((p) => ({
      slug: p.slug,
      name: p.name,
      auth_type: p.authType,
      ...(p.scenarios ? { scenarios: [...p.scenarios] } : {}),
    }));
  return c.json({ providers }, 200);
});
