import { createRoute, z } from "@hono/zod-openapi";
import { loadConfig } from "../config";
import { effectiveEnvironment } from "../environment";
import { pingHomes } from "../home/client";
import { createRouter, jsonContent, problemDoc } from "../http/openapi";
import { pingLimiter } from "../limiter/client";
import { readiness } from "../services/readiness";
import { VERSION } from "../version";

const Health = z.object({ status: z.literal("ok"), version: z.string(), environment: z.string() }).openapi("Health");

const Check = z.object({
  status: z.enum(["ok", "fail"]),
  latency_ms: z.number().int(),
  error: z.string().optional().openapi({ description: "The failure's class, never its internals." }),
});
const Ready = z
  .object({
    status: z.enum(["ok", "fail"]),
    checks: z.object({ config: Check, database: Check, homes: Check, limiter: Check }),
  })
  .openapi("Readiness");

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
  summary: "Readiness: config valid, D1 answers a query, the homes' and the Limiter's objects answer.",
  responses: {
    200: jsonContent(Ready, "Every dependency is reachable."),
    500: problemDoc(500),
    503: jsonContent(Ready, "At least one check failed; see `checks`."),
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
    const result = await readiness({
      config: async () => {
        await loadConfig(c.env);
      },
      database: async () => {
        await c.env.DB.prepare("SELECT 1").first();
      },
      // Straight from the bindings: readiness answers even when the configuration is broken.
      homes: () => pingHomes(c.env.HOME),
      limiter: () => pingLimiter(c.env.LIMITER),
    });
    c.header("Cache-Control", "no-store");
    return c.json(result, result.status === "ok" ? 200 : 503);
  });
