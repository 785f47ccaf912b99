import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src";
import { loadConfig } from "../../src/config";
import { createDeps, type Deps } from "../../src/deps";
import type { HomeClient } from "../../src/home/client";
import type { LimiterClient } from "../../src/limiter/client";
import { createLogger } from "../../src/logger";
import type { RuleName } from "../../src/services/rate-rules";

/**
 * The Worker's own dependencies (src/deps.ts), for calling services directly, with any member
 * replaced. Deferred work (emails) runs inline and is awaited by `settle()`.
 */
export async function testDeps(overrides: Partial<Deps> = {}, envOf: Env = env) {
  const config = await loadConfig(envOf);
  const deferred: Promise<unknown>[] = [];
  const deps = createDeps(envOf, config, {
    logger: createLogger("silent"),
    defer: (work) => deferred.push(work),
    overrides,
  });
  return Object.assign(deps, { settle: () => Promise.allSettled(deferred.splice(0)) });
}

/**
 * Test deps whose home or Limiter client has some calls replaced. The Worker's own clients are
 * shared by every request of the isolate (src/deps.ts), so a test never patches them in place: it
 * gets copies with the replacements.
 */
export async function depsWithObjects(
  replace: { homes?: Partial<HomeClient<RuleName>>; limiter?: Partial<LimiterClient<RuleName>> },
  overrides: Partial<Deps> = {},
) {
  const base = await testDeps();
  return testDeps({
    ...overrides,
    homes: { ...base.homes, ...replace.homes },
    limiter: { ...base.limiter, ...replace.limiter },
  });
}

/** Fires a Cron Trigger through the Worker's own `scheduled` handler and waits for its work. */
export async function runCron(cron: string, envOf: Env = env, at = Date.now()) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron, scheduledTime: at }), envOf, ctx);
  await waitOnExecutionContext(ctx);
}

/** The hourly Cron Trigger (wrangler.toml [triggers]). */
export const HOURLY_CRON = "0 * * * *";
