import { createRoute, z } from "@hono/zod-openapi";
import { effectiveEnvironment } from "../environment";
import { createRouter, jsonContent, problemDoc } from "../http/openapi";
import { publicReadiness } from "../readiness-checks";
import { VERSION } from "../version";
import { Ready } from "../wire/health";

const Health = z.object({ status: z.literal("ok"), version: z.string(), environment: z.string() }).openapi("Health");

const health = createRoute({
  operationId: "getHealth",
  security: [],
  method: "get",
  path: "/",
  tags: ["System"],
  summary: "Liveness: the Worker answers (no I/O).",
  responses: { 200: jsonContent(Health, "Alive."), 500: problemDoc(500) },
});

const ready = createRoute({
  operationId: "getReadiness",
  security: [],
  method: "get",
  path: "/ready",
  tags: ["System"],
  summary: "Readiness: every dependency, each with its status and latency.",
  description: `Never calls a provider: each configured provider's and the email transport's last hour of real
outcomes is read from D1 (the current and the previous clock hour). A queue is proven by sending it a
probe message its consumer drops (at most once per 30 s per isolate). 503 only when the API cannot
serve; a provider or transport in trouble is \`degraded\` (200). Anyone may ask, so the answer holds
no counts (they would tell whether an address has an account): an administrator reads each check's
\`details\` at \`GET /api/v1/admin/health\`. One isolate reuses its answer for 2 s.`,
  responses: {
    200: jsonContent(Ready, "Ready (`ok`) or serving with trouble (`degraded`); see `checks`."),
    500: problemDoc(500),
    503: jsonContent(Ready, "A dependency the API cannot do without failed; see `checks`."),
  },
});

export const healthRoutes = createRouter()
  .openapi(health, (c) =>
    c.json(
      {
        status: "ok" as const,
        version: VERSION,
        environment: effectiveEnvironment(c.env as unknown as Record<string, unknown>) || "unknown",
      },
      200,
    ),
  )
  .openapi(ready, async (c) => {
    const result = await publicReadiness(c.env);
    c.header("Cache-Control", "no-store");
    return c.json(result, result.status === "fail" ? 503 : 200);
  });
