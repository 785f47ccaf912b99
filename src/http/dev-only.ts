import type { MiddlewareHandler } from "hono";
import { notFound } from "../errors";
import type { AppEnv } from "./app-env";

/** Development helpers answer 404 in production, as if they did not exist. */
export function devOnly(): MiddlewareHandler<AppEnv> {
  return async function devOnly(c, next) {
    if (c.get("config").environment === "production") throw notFound("route");
    await next();
  };
}
