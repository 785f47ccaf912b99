import { createRoute } from "@hono/zod-openapi";
import { requireAdmin, requireAuth } from "../http/auth";
import { createRouter, jsonContent, problems } from "../http/openapi";
import { checkReadiness } from "../readiness-checks";
import { Ready } from "../wire/health";

const route = createRoute({
  operationId: "adminReadiness",
  method: "get",
  path: "/",
  tags: ["Administration"],
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth(), requireAdmin()] as const,
  summary: "Readiness with each check's details, for whoever is on call.",
  description: `The same checks as \`GET /health/ready\`, with what each found: the email transport in use and
its last hour of sends, each provider's last hour of syncs (succeeded, failed, success rate, the class and
time of the latest failure). Always 200: \`status\` says \`ok\`, \`degraded\` or \`fail\`
(docs/contract.md "Readiness, for whoever is on call").`,
  responses: { 200: jsonContent(Ready, "Every check, with its details."), ...problems(401, 403, 429) },
});

export const adminHealthRoutes = createRouter().openapi(route, async (c) => c.json(await checkReadiness(c.env), 200));
