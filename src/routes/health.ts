import { createRoute, z } from "@hono/zod-openapi";
import { loadConfig } from "../config";
import { createDb } from "../db/client";
import { effectiveEnvironment } from "../environment";
import { pingHomes } from "../home/client";
import { createRouter, jsonContent, problemDoc } from "../http/openapi";
import { pingLimiter } from "../limiter/client";
import { createProviderRegistry } from "../providers/registry";
import { QUEUE_PROBE } from "../queue-probe";
import { type Check, readiness, recentHealth } from "../services/readiness";
import { VERSION } from "../version";

const Health = z.object({ status: z.literal("ok"), version: z.string(), environment: z.string() }).openapi("Health");

const CheckResult = z.object({
  status: z.enum(["ok", "degraded", "fail"]),
  latency_ms: z.number().int(),
  error: z.string().optional().openapi({ description: "The failure's class, never its internals." }),
  details: z
    .record(z.string(), z.unknown())
    .optional()
    .openapi({ description: "What the check found: a transport's or a provider's last hour of outcomes." }),
});
const Ready = z
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
serve; a provider or transport in trouble is \`degraded\` (200).`,
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
    const now = new Date();
    // Straight from the bindings: readiness answers even when the configuration is broken.
    const config = await loadConfig(c.env).catch(() => null);
    const db = createDb(c.env.DB);
    const degrading: Record<string, Check> = {
      sync_queue: () => probeQueue(c.env.SYNC_QUEUE, now),
      email_queue: () => probeQueue(c.env.EMAIL_QUEUE, now),
    };
    if (config) {
      degrading.email_transport = async () => {
        const health = await recentHealth(db, "email", now);
        return { ...health, details: { transport: config.email.transport, ...health.details } };
      };
      for (const p of createProviderRegistry(config).list()) {
        if (p.configured) degrading[`provider:${p.slug}`] = () => recentHealth(db, `provider:${p.slug}`, now);
      }
    }
    const result = await readiness(
      {
        config: async () => {
          if (!config) await loadConfig(c.env);
        },
        database: async () => {
          await c.env.DB.prepare("SELECT 1").first();
        },
        homes: () => pingHomes(c.env.HOME),
        limiter: () => pingLimiter(c.env.LIMITER),
      },
      degrading,
    );
    c.header("Cache-Control", "no-store");
    return c.json(result, result.status === "fail" ? 503 : 200);
  });

/** A queue's last probe per isolate (per binding): a probe every few seconds must not flood it. */
const probed = new WeakMap<Queue<unknown>, { at: number; ok: boolean }>();
const PROBE_EVERY_MS = 30_000;

async function probeQueue(queue: Queue<unknown>, now: Date): Promise<void> {
  const last = probed.get(queue);
  if (last && now.getTime() - last.at < PROBE_EVERY_MS) {
    if (!last.ok) throw new Error("the last probe was refused");
    return;
  }
  try {
    await queue.send(QUEUE_PROBE, { contentType: "json" });
    probed.set(queue, { at: now.getTime(), ok: true });
  } catch (err) {
    probed.set(queue, { at: now.getTime(), ok: false });
    throw err;
  }
}
