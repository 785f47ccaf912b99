import { DurableObject } from "cloudflare:workers";

/**
 * The Gate: one Durable Object per subject (`user:<id>`, `ip:<addr>`, `email:<hash>`), the
 * single owner of that subject's rate-limit buckets, revocations and token versions
 * (ARCHITECTURE.md §2, §4).
 */
export class Gate extends DurableObject<Env> {
  /** Liveness probe used by /health/ready. */
  async ping(): Promise<{ ok: true }> {
    return { ok: true };
  }
}

/** The stub for one subject's Gate. */
export function gateFor(ns: DurableObjectNamespace<Gate>, subject: string): DurableObjectStub<Gate> {
  return ns.get(ns.idFromName(subject));
}
