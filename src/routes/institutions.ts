import { createRoute, z } from "@hono/zod-openapi";
import { requireAuth } from "../http/auth";
import { depsOf } from "../http/deps";
import { createRouter, jsonContent, problems } from "../http/openapi";
import { listInstitutions } from "../services/institutions/catalogue";
import { Institution } from "../wire/connections";
import { Limit } from "../wire/identity";

const query = z.object({
  provider: z
    .string()
    .min(1, "is required")
    .max(32, "is not a provider")
    .openapi({ example: "gocardless", description: "A provider with `needs_institution`." }),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, "must be an ISO 3166 alpha-2 country code")
    .transform((c) => c.toUpperCase())
    .optional()
    .openapi({ example: "GB" }),
  q: z
    .string()
    .trim()
    .min(1)
    .max(100, "must be at most 100 characters")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
    .regex(/^[^\u0000-\u001f\u007f]*$/, "must not contain control characters")
    .optional()
    .openapi({
      description: "A fragment of the bank's name or BIC (case-insensitive).",
    }),
  limit: Limit(500, 100),
  cursor: z.string().max(1024, "is not a valid cursor").optional(),
});

const list = createRoute({
  operationId: "listInstitutions",
  method: "get",
  path: "/",
  tags: ["Connections"],
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth()] as const,
  summary: "The banks a bank-consent provider links, by name.",
  description: `Searched in this deployment's copy of the provider's catalogue, fetched at most once a
day: searching never calls the provider (only a deployment's very first look fills the copy). Each bank
says how much history it gives and the longest consent it allows: a connection's consent lasts that long
and then needs the person again (\`consent_expires_at\`). Pass \`id\` as \`institution_id\` to
POST /api/v1/connections. 422 for a provider without banks.`,
  request: { query },
  responses: {
    200: jsonContent(
      z.object({ institutions: z.array(Institution), next_cursor: z.string().nullable() }),
      "A page of banks.",
    ),
    ...problems(401, 422, 429, 503),
  },
});

export const institutionRoutes = createRouter().openapi(list, async (c) =>
  c.json(await listInstitutions(depsOf(c), c.req.valid("query")), 200),
);
