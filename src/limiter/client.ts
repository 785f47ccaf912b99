/**
 * The only way into the Limiter objects (./limiter.ts): typed subjects, so a client's counters,
 * an address's lockouts and the global rotation cannot be mixed up, and no stub leaves this file.
 */
import { sha256Hex } from "../crypto/random";
import type { LimitAnswer, Rule } from "../durable/bucket";
import type { GlobalRotation, StagedRestore } from "./global";
import type { Limiter, LimiterCommand, LimiterResults, LoginGateAnswer } from "./limiter";
import type { LockoutAnswer, LockoutPolicy } from "./lockouts";

/** A client's subject: its key (IPv4, or the IPv6 /64). */
export type ClientSubject = `ip:${string}`;
/** An address's subject: its SHA-256, so no raw address names an object. */
export type EmailSubject = `email:${string}`;

/** A provider's outbound budget (one per provider slug: a sandbox is not its twin). */
export type ProviderSubject = `provider:${string}`;

/** The subject of an email address (trimmed, lower-cased). */
export const emailSubject = async (email: string): Promise<EmailSubject> =>
  `email:${await sha256Hex(email.trim().toLowerCase())}`;

export interface LimiterClient<R extends string> {
  /** Takes one token from a client's or an address's bucket of `rule`. */
  take(subject: ClientSubject | EmailSubject | ProviderSubject, rule: R, key?: string): Promise<LimitAnswer>;
  /** Is this client locked out of the address? With `budget`, the address's budget of failed logins too. */
  loginGate(email: EmailSubject, client: string, budget: R | null): Promise<LoginGateAnswer>;
  /** Counts a failed credential check from this client (with `budget`, spending the address's). */
  loginFailed(
    email: EmailSubject,
    client: string,
    budget: R | null,
  ): Promise<LockoutAnswer & { budget: LimitAnswer | null }>;
  /** A success: the client's count starts again (`lift`: its lock ends; `known`: it logged in). */
  loginSucceeded(email: EmailSubject, client: string, options?: { lift?: boolean; known?: boolean }): Promise<void>;
  /** May another email of `kind` go to the address (at most `perHour` per rolling hour)? Records it if so. */
  allowEmail(email: EmailSubject, kind: string, perHour: number): Promise<boolean>;
  rotateGlobal(): Promise<GlobalRotation>;
  readGlobal(): Promise<GlobalRotation>;
  /** Stages what a user's home applies once restored, before the restore restarts it. */
  stageRestore(userId: string, restore: StagedRestore): Promise<void>;
  /** Withdraws the staged restore `id` of a restore that did not happen. */
  unstageRestore(userId: string, id: string): Promise<void>;
  /** Liveness of one Limiter object (readiness). */
  ping(): Promise<void>;
}

/** Retries a call once: an object can be reset mid-call (e.g. on deploy); only idempotent calls use it. */
async function retry<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch {
    return f();
  }
}

export function createLimiterClient<R extends string>(
  ns: DurableObjectNamespace<Limiter>,
  settings: { rules: Record<R, Rule>; lockout: LockoutPolicy },
): LimiterClient<R> {
  const run = <C extends LimiterCommand>(subject: string, command: C) =>
    ns.get(ns.idFromName(subject)).command(command) as Promise<LimiterResults[C["type"]]>;
  const limit = (rule: R, key?: string) => ({ name: rule, rule: settings.rules[rule], ...(key ? { key } : {}) });
  return {
    take: (subject, rule, key) => run(subject, { type: "take", limit: limit(rule, key) }),
    loginGate: (email, client, budget) =>
      retry(() => run(email, { type: "loginGate", client, budget: budget ? limit(budget) : null })),
    // Counting calls are not retried: a lost answer must not count one failure twice.
    loginFailed: (email, client, budget) =>
      run(email, { type: "loginFailed", client, policy: settings.lockout, budget: budget ? limit(budget) : null }),
    async loginSucceeded(email, client, options = {}) {
      await retry(() =>
        run(email, { type: "loginSucceeded", client, lift: options.lift ?? false, known: options.known ?? false }),
      );
    },
    allowEmail: (email, kind, perHour) => run(email, { type: "allowEmail", kind, maxPerHour: perHour }),
    rotateGlobal: () => retry(() => run("global", { type: "rotateGlobal" })),
    async readGlobal() {
      const { restore: _, ...rotation } = await retry(() => run("global", { type: "readGlobal", userId: null }));
      return rotation;
    },
    async stageRestore(userId, restore) {
      await retry(() => run("global", { type: "stageRestore", userId, restore }));
    },
    async unstageRestore(userId, id) {
      await retry(() => run("global", { type: "unstageRestore", userId, id }));
    },
    ping: () => pingLimiter(ns),
  };
}

/** Liveness of the Limiter's namespace: one object (named `health`) answers. */
export async function pingLimiter(ns: DurableObjectNamespace<Limiter>): Promise<void> {
  await ns.get(ns.idFromName("health")).ping();
}
