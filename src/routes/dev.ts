import { createRoute, z } from "@hono/zod-openapi";
import { listOutbox } from "../db/outbox";
import { depsOf } from "../http/deps";
import { devOnly } from "../http/dev-only";
import { createRouter, jsonContent, problems } from "../http/openapi";
import { Email } from "../wire/identity";

const OutboxMessage = z
  .object({
    id: z.string(),
    to: z.string(),
    subject: z.string(),
    text: z.string(),
    html: z.string(),
    created_at: z.string().openapi({ format: "date-time" }),
  })
  .openapi("OutboxMessage");

const outbox = createRoute({
  operationId: "devListOutbox",
  security: [],
  method: "get",
  path: "/outbox",
  tags: ["Development"],
  // Refused before the query is validated: production answers 404 whatever is asked.
  middleware: [devOnly()] as const,
  summary: "Development only (404 in production): emails the outbox transport stored, newest first.",
  request: { query: z.object({ to: Email }) },
  responses: { 200: jsonContent(z.object({ messages: z.array(OutboxMessage) }), "Messages."), ...problems(404, 422) },
});

export const devRoutes = createRouter().openapi(outbox, async (c) => {
  const rows = await listOutbox(depsOf(c).db, c.req.valid("query").to);
  return c.json(
    {
      messages: rows.map((m) => ({
        id: m.id,
        to: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        created_at: m.createdAt.toISOString(),
      })),
    },
    200,
  );
});
