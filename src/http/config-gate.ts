import type { MiddlewareHandler } from "hono";
import { type Config, ConfigError, loadConfig } from "../config";
import { fail } from "../errors";
import type { AppEnv } from "./app-env";

// Configs already parsed for an env object (stable for the isolate): the hot path then sets it
// without awaiting loadConfig's promise again.
const ready = new WeakMap<object, Config>();

/**
 * Loads the validated config for every route behind it. When the config is invalid the route
 * answers 503 `misconfigured`, and the log names the wrong keys, never their values.
 */
export function configGate(): MiddlewareHandler<AppEnv> {
  const load: MiddlewareHandler<AppEnv> = async (c, next) => {
    try {
      const config = await loadConfig(c.env);
      ready.set(c.env, config);
      c.set("config", config);
      // The access log's logger already has this level: a valid LOG_LEVEL, or info (its default).
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      c.get("logger").error("configuration invalid", { issues: err.issues });
      throw fail("misconfigured", "The service is misconfigured; the operators have been told.");
    }
    await next();
  };
  return function configGate(c, next) {
    const config = ready.get(c.env);
    if (!config) return load(c, next);
    c.set("config", config);
    return next();
  };
}
