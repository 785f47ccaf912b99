import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { LOG_LEVELS, type LogLevel } from "../config";
import { createLogger } from "../logger";
import { createMetrics } from "../metrics";
import type { AppEnv } from "./app-env";

/**
 * One structured line per request: method, path, status, duration, request id, user id. A
 * refused request (4xx) logs at info and a failure (5xx) at error; a served one logs at debug:
 * Workers Logs already records every invocation (URL, status, CPU and wall time), and a line
 * per successful read was a measurable share of its cost. LOG_LEVEL=debug shows them all.
 */
export function accessLog(): MiddlewareHandler<AppEnv> {
  return async function accessLog(c, next) {
    const started = performance.now();
    // Before the config gate has validated everything, honour a valid LOG_LEVEL or use info.
    const raw = c.env?.LOG_LEVEL as string | undefined;
    const level = LOG_LEVELS.includes(raw as LogLevel) ? (raw as LogLevel) : "info";
    c.set("logger", createLogger(level, { request_id: c.get("requestId"), trace_id: c.get("trace")?.traceId }));
    await next();
    const status = c.res.status;
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    const log = c.get("logger");
    // The route's pattern, never the path: ids are not metric dimensions (src/metrics.ts).
    createMetrics(c.env?.METRICS, log).request({ method: c.req.method, route: routePath(c, -1), status, durationMs });
    if (status < 400 && level !== "debug") return;
    const line = {
      method: c.req.method,
      path: c.req.path,
      status,
      duration_ms: durationMs,
      user_id: c.get("userId") ?? null,
      ip: c.get("client")?.ip ?? null,
    };
    if (status >= 500) log.error("request", line);
    else if (status >= 400) log.info("request", line);
    else log.debug("request", line);
  };
}
