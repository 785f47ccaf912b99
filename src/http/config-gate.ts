import type { MiddlewareHandler } from "hono";
import { ConfigError, loadConfig } from "../config";
import { fail } from "../errors";
import type { AppEnv } from "./app-env";

/**
 * Loads the validated config for every route behind it (parsed once per isolate by loadConfig).
 * When the config is invalid the route answers 503 `misconfigured`, and the log names the wrong
 * keys, never their values.
 */
export function configGate(): MiddlewareHandler<AppEnv> {
  return async function configGate(c, next) {
    try {
      c.set("config", await loadConfig(c.env));
      // The access log's logger already has this level: a valid LOG_LEVEL, or info (its default).
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      c.get("logger").error("configuration invalid", { issues: err.issues });
      throw fail("misconfigured", "The service is misconfigured; the operators have been told.");
    }
    await next();
  };
}
