import type { MiddlewareHandler } from "hono";
import { cors as honoCors } from "hono/cors";
import type { AppEnv } from "./app-env";

/**
 * CORS for the origins in config (CORS_ALLOWED_ORIGINS). A request without `Origin` is not a CORS
 * request (Fetch standard, "CORS protocol"), so it skips Hono's middleware, which touches the
 * response before the handler runs and so costs every response a copy; it still gets `Vary:
 * Origin`, as the answer to the same URL differs with that header.
 */
export function cors(): MiddlewareHandler<AppEnv> {
  const withOrigin = honoCors({
    origin: (origin, c) => (c.get("config").corsAllowedOrigins.includes(origin) ? origin : null),
    allowHeaders: ["Authorization", "Content-Type", "X-Request-Id"],
    exposeHeaders: ["X-Request-Id", "Retry-After", "RateLimit", "RateLimit-Policy", "WWW-Authenticate"],
    maxAge: 600,
  });
  return function cors(c, next) {
    if (c.req.header("Origin") !== undefined) return withOrigin(c, next);
    c.header("Vary", "Origin", { append: true });
    return next();
  };
}
