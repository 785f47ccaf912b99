/**
 * What `/health/ready` checks, composed from the Worker's bindings (src/services/readiness.ts
 * runs them): config, D1, the homes and the Limiter are fatal; both queues, the email transport
 * and each configured provider's last hour only degrade. Read straight from the bindings, so
 * readiness answers even when the configuration is broken.
 */
import { loadConfig } from "./config";
import { createDb } from "./db/client";
import { pingHomes } from "./home/client";
import { pingLimiter } from "./limiter/client";
import { createProviderRegistry } from "./providers/registry";
import { QUEUE_PROBE } from "./queue-probe";
import { type Check, readiness, recentHealth } from "./services/readiness";

export async function checkReadiness(env: Env, now = new Date()) {
  const config = await loadConfig(env).catch(() => null);
  const db = createDb(env.DB);
  const degrading: Record<string, Check> = {
    sync_queue: () => probeQueue(env.SYNC_QUEUE, now),
    email_queue: () => probeQueue(env.EMAIL_QUEUE, now),
  };
  if (config) {
    const providers = createProviderRegistry(config)
      .list()
      .filter((p) => p.configured)
      .map((p) => `provider:${p.slug}`);
    // One read of the last hour for the transport and every provider, shared by their checks.
    const recent = recentHealth(db, ["email", ...providers], now);
    degrading.email_transport = async () => {
      const health = (await recent).of("email");
      return { ...health, details: { transport: config.email.transport, ...health.details } };
    };
    for (const subject of providers) degrading[subject] = async () => (await recent).of(subject);
  }
  return readiness(
    {
      config: async () => {
        if (!config) await loadConfig(env);
      },
      database: async () => {
        await env.DB.prepare("SELECT 1").first();
      },
      homes: () => pingHomes(env.HOME),
      limiter: () => pingLimiter(env.LIMITER),
    },
    degrading,
  );
}

/** How long one isolate reuses its public answer: a flood of probes reaches the two `health` objects at most this often. */
const PUBLIC_TTL_MS = 2_000;
const lastPublic = new WeakMap<Env, { at: number; answer: Promise<ReadinessResult> }>();
type ReadinessResult = Awaited<ReturnType<typeof checkReadiness>>;

/**
 * The public answer, reused by this isolate for PUBLIC_TTL_MS: anyone may ask, and each probe
 * otherwise reads D1 and calls the single `health` Home and Limiter objects, which a flood would
 * turn into a 503. (Per binding set: a test's altered bindings get their own answer.)
 */
export function publicReadiness(env: Env, now = Date.now()): Promise<ReadinessResult> {
  const last = lastPublic.get(env);
  if (last && now - last.at < PUBLIC_TTL_MS) return last.answer;
  const answer = checkReadiness(env, new Date(now)).then(withoutDetails);
  lastPublic.set(env, { at: now, answer });
  return answer;
}

/**
 * The public answer: each check's status, latency and failure class, without the details. Their
 * counts move with what anyone can cause (a password-reset email is sent only to an existing
 * account), so they would tell an anonymous caller whether an address has an account; an
 * administrator reads them at `GET /api/v1/admin/health`.
 */
export function withoutDetails<T extends { checks: Record<string, { details?: unknown }> }>(result: T): T {
  const checks = Object.fromEntries(
    Object.entries(result.checks).map(([name, { details: _details, ...check }]) => [name, check]),
  );
  return { ...result, checks };
}

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
