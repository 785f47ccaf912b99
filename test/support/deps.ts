import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { loadConfig } from "../../src/config";
import { createDeps, type Deps } from "../../src/deps";
import type { GateClient } from "../../src/gate/client";
import worker from "../../src/index";
import { createLogger } from "../../src/logger";

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
 * Test deps whose Gate client has some calls replaced. The Worker's own client is shared by
 * every request of the isolate (src/deps.ts), so a test never patches it in place: it gets a
 * copy with the replacements.
 */
export async function depsWithGate(replace: Partial<GateClient>, overrides: Partial<Deps> = {}) {
  const base = await testDeps();
  return testDeps({ ...overrides, gate: { ...base.gate, ...replace } });
}

/** Fires a Cron Trigger through the Worker's own `scheduled` handler and waits for its work. */
export async function runCron(cron: string, envOf: Env = env, at = Date.now()) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron, scheduledTime: at }), envOf, ctx);
  await waitOnExecutionContext(ctx);
}

/** The hourly Cron Trigger (wrangler.toml [triggers]). */
export const HOURLY_CRON = "0 * * * *";
