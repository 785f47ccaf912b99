import { z } from "@hono/zod-openapi";

/** `/health/ready` and `GET /api/v1/admin/health` (src/readiness-checks.ts). */
const CheckResult = z.object({
  status: z.enum(["ok", "degraded", "fail"]),
  latency_ms: z.number().int(),
  error: z.string().optional().openapi({ description: "The failure's class, never its internals." }),
  details: z.record(z.string(), z.unknown()).optional().openapi({
    description:
      "What the check found: a transport's or a provider's last hour of outcomes. Only in `GET /api/v1/admin/health`.",
  }),
});
export const Ready = z
  .object({
    status: z.enum(["ok", "degraded", "fail"]).openapi({
      description:
        "`fail` (503): the API cannot serve (config, D1, the homes or the Limiter). `degraded` (200): it serves, but a queue, the email transport or a provider is in trouble. `ok`: all is well.",
    }),
    checks: z.record(z.string(), CheckResult).openapi({
      description:
        "`config`, `database`, `homes`, `limiter` (each fails the whole); `sync_queue`, `email_queue` (can send), `email_transport` (configured, and its last hour of sends), `provider:<slug>` for each configured provider (its last hour of syncs: success rate, last error class): these only degrade it.",
    }),
  })
  .openapi("Readiness");
