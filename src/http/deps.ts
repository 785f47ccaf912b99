import type { Context } from "hono";
import { createDeps, type Deps } from "../deps";
import type { AppEnv } from "./app-env";

/**
 * The request's dependencies (src/deps.ts), built once per request on first use: everything a
 * route hands to a service comes from here.
 */
export function depsOf(c: Context<AppEnv>): Deps {
  let deps = c.get("deps");
  if (!deps) {
    deps = createDeps(c.env, c.get("config"), {
      logger: c.get("logger"),
      trace: c.get("trace"),
      defer: (work) => c.executionCtx.waitUntil(work),
    });
    c.set("deps", deps);
  }
  return deps;
}
