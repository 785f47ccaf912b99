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
  summary: "The providers you can connect here, and how each links.",
  description: `Every provider this deployment lists: \`schwab\` and \`alpaca\` (brokerages, \`oauth2\`),
\`gocardless\` (European and UK banks, \`bank_consent\`: pick a bank from GET /api/v1/institutions) and
\`simplefin\` (US and Canadian banks and cards, \`setup_token\`). \`configured\` is false where this
deployment lacks the provider's credentials (connecting answers 422 \`provider_not_configured\`).
Outside production the in-process sandboxes are listed too: \`sandbox\` (a simulated Schwab),
\`sandbox_alpaca\`, \`sandbox_gocardless\` and \`sandbox_simplefin\`, each with its \`scenarios\`.
Pass a \`slug\` to POST /api/v1/connections.`,
  responses: {
    200: jsonContent(z.object({ providers: z.array(ProviderInfo) }), "Listed providers."),
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
      countries: [...p.countries],
      needs_institution: p.needsInstitution,
      configured: p.configured,
      ...(p.scenarios ? { scenarios: [...p.scenarios] } : {}),
    }));
  return c.json({ providers }, 200);
});
