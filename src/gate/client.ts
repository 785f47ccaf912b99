import type { Config } from "../config";
import type { LiveEvent } from "./events";
import { type GlobalRotation, gateFor, type LimitAnswer } from "./gate";
import type { RuleName } from "./rules";

/** What services need from the Gates: revocations, token versions, rotations, limits. */
export interface GateClient {
  /** Tells the user's Gate at once; throws if it cannot (callers fail closed). */
  revokeSessions(userId: string, sessionIds: string[]): Promise<void>;
  setMinTokenVersion(userId: string, version: number): Promise<void>;
  rotateGlobal(): Promise<GlobalRotation>;
  readGlobal(): Promise<GlobalRotation>;
  limit(subject: string, rule: RuleName, key?: string): Promise<LimitAnswer>;
  /** Pushes a live event to the user's open sockets; best effort (never fails the caller). */
  publish(userId: string, event: LiveEvent): Promise<void>;
}

/** Retries a Gate call once: a DO can be reset mid-call (e.g. on deploy); calls are idempotent. */
async function retry<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch {
    return f();
  }
}

export function createGateClient(ns: DurableObjectNamespace<import("./gate").Gate>, config: Config): GateClient {
  // A revoked session's access token could be valid until its exp: keep the revocation that
  // long, plus a minute of clock skew.
  const revocationTtlMs = (config.tokens.accessTtlSeconds + 60) * 1000;
  return {
    async revokeSessions(userId, sessionIds) {
      if (sessionIds.length === 0) return;
      await retry(() => gateFor(ns, `user:${userId}`).revokeSessions(sessionIds, Date.now() + revocationTtlMs));
    },
    async setMinTokenVersion(userId, version) {
      await retry(() => gateFor(ns, `user:${userId}`).setMinTokenVersion(version));
    },
    rotateGlobal: () => retry(() => gateFor(ns, "global").rotateGlobal()),
    readGlobal: () => retry(() => gateFor(ns, "global").readGlobal()),
    async publish(userId, event) {
      try {
        await gateFor(ns, `user:${userId}`).publish(event);
      } catch {
        // Live events are a convenience; the source of truth stays in D1 and the audit trail.
      }
    },
    limit: (subject, rule, key) =>
      gateFor(ns, subject).limit({ name: rule, rule: config.rateLimits[rule], ...(key ? { key } : {}) }),
  };
}
