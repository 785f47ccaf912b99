import type { Config } from "../config";
import { sha256Hex } from "../crypto/random";
import type { LiveEvent } from "./events";
import {
  type AuthorizeAnswer,
  type AuthorizeRequest,
  type Cutoff,
  type Gate,
  type GlobalRotation,
  gateFor,
  type LimitAnswer,
  type LockoutAnswer,
  type LoginGateAnswer,
  type StagedRestore,
} from "./gate";
import type { RuleName } from "./rules";

/** The Gate subject of an email address (its SHA-256, so no raw address names an object). */
export type EmailSubject = `email:${string}`;

/** The Gate of an email address (trimmed, lower-cased): per-address limits, lockouts, quotas. */
export const emailSubject = async (email: string): Promise<EmailSubject> =>
  `email:${await sha256Hex(email.trim().toLowerCase())}`;

/** What services need from the Gates: revocations, token versions, rotations, limits, lockouts. */
export interface GateClient {
  /** Tells the user's Gate at once; throws if it cannot (callers fail closed). */
  revokeSessions(userId: string, sessionIds: string[]): Promise<void>;
  /** Refuses every token issued before `at` except the kept session's (revoke all/others). */
  revokeBefore(userId: string, at: Date, keep: string | null): Promise<void>;
  setMinTokenVersion(userId: string, version: number): Promise<void>;
  rotateGlobal(): Promise<GlobalRotation>;
  readGlobal(): Promise<GlobalRotation>;
  limit(subject: string, rule: RuleName, key?: string): Promise<LimitAnswer>;
  /**
   * Is this client locked out of the account behind `email`? (Known or not, alike.) With
   * `budget`, also the address's budget of failed logins (`login_email`; null for a client that
   * logged in there within 30 days).
   */
  lockoutStatus(email: EmailSubject, client: string, budget?: boolean): Promise<LoginGateAnswer>;
  /** Counts a failed credential check; with `budget` it spends the address's budget too. */
  lockoutFail(
    email: EmailSubject,
    client: string,
    budget?: boolean,
  ): Promise<LockoutAnswer & { budget: LimitAnswer | null }>;
  /** A success: the client's count starts again (`lift`: its lock ends; `known`: it logged in). */
  lockoutReset(email: EmailSubject, client: string, lift?: boolean, known?: boolean): Promise<void>;
  /**
   * The account's budget of wrong second-factor answers (`mfa_user`, nothing taken) and whether
   * the login challenge (its token hash), if any, is still alive.
   */
  secondFactorGate(userId: string, challenge: string | null): Promise<LimitAnswer & { challengeDead: boolean }>;
  /** Counts a wrong second-factor answer against the account and its login challenge, if any. */
  secondFactorFailed(
    userId: string,
    challenge: { id: string; expiresAt: number } | null,
  ): Promise<{ limit: LimitAnswer; challengeFailures: number }>;
  /** Counts a wrong re-authentication in a session; returns how many in a row. */
  reauthFailed(userId: string, sessionId: string): Promise<number>;
  reauthSucceeded(userId: string, sessionId: string): Promise<void>;
  /** May another email of `kind` go to the address (at most `perHour` per rolling hour)? */
  allowEmail(email: EmailSubject, kind: string, perHour: number): Promise<boolean>;
  /** Pushes a live event to the user's open sockets; best effort (never fails the caller). */
  publish(userId: string, event: LiveEvent): Promise<void>;
  /** The one call an authenticated request makes (revoked? version ok? rate ok?). */
  authorize(userId: string, input: AuthorizeRequest): Promise<AuthorizeAnswer>;
  /** Hands an authenticated WebSocket upgrade to the user's Gate, which holds the socket. */
  openEvents(userId: string, upgrade: Request): Promise<Response>;
  /** The user's home: the ledger and its runs (src/ledger/). */
  home(userId: string): DurableObjectStub<Gate>;
  /** Drops the user's cached profile after a change of their row (best effort, logged by caller). */
  forgetProfile(userId: string): Promise<void>;
  /** Erases the user's home object (account deletion): ledger, runs, limits; their tokens stop. */
  eraseHome(userId: string): Promise<void>;
  /**
   * Restores the user's home to its state at `at` (Durable Objects point-in-time recovery) and
   * restarts it; the bookmark that undoes it, or null where the storage keeps no history.
   */
  restoreHome(userId: string, at: Date): Promise<{ undo: string } | null>;
  /** Stages what the restored home applies before it serves anything (kept outside the home). */
  stageRestore(userId: string, restore: StagedRestore): Promise<void>;
}

/** Retries a Gate call once: a DO can be reset mid-call (e.g. on deploy); calls are idempotent. */
async function retry<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch {
    return f();
  }
}

export function createGateClient(
  ns: DurableObjectNamespace<Gate>,
  config: Config,
  now: () => Date = () => new Date(),
): GateClient {
  // A revoked session's access token could be valid until its exp: keep the revocation that
  // long, plus a minute of clock skew.
  const revocationTtlMs = (config.tokens.accessTtlSeconds + 60) * 1000;
  const user = (id: string) => gateFor(ns, `user:${id}`);
  const policy = { threshold: config.lockout.threshold, durationMs: config.lockout.durationSeconds * 1000 };
  const rule = (name: RuleName) => ({ name, rule: config.rateLimits[name] });
  return {
    async revokeSessions(userId, sessionIds) {
      if (sessionIds.length === 0) return;
      await retry(() => user(userId).revokeSessions(sessionIds, now().getTime() + revocationTtlMs));
    },
    async revokeBefore(userId, at, keep) {
      const cutoff: Cutoff = {
        beforeSecond: Math.floor(at.getTime() / 1000),
        keep,
        until: at.getTime() + revocationTtlMs,
      };
      await retry(() => user(userId).revokeBefore(cutoff));
    },
    async setMinTokenVersion(userId, version) {
      await retry(() => user(userId).setMinTokenVersion(version));
    },
    rotateGlobal: () => retry(() => gateFor(ns, "global").rotateGlobal()),
    readGlobal: () => retry(() => gateFor(ns, "global").readGlobal()),
    stageRestore: (userId, restore) => retry(() => gateFor(ns, "global").stageRestore(userId, restore)),
    async publish(userId, event) {
      try {
        await user(userId).publish(event);
      } catch {
        // Live events are a convenience; the source of truth stays in D1 and the audit trail.
      }
    },
    limit: (subject, rule, key) =>
      gateFor(ns, subject).limit({ name: rule, rule: config.rateLimits[rule], ...(key ? { key } : {}) }),
    lockoutStatus: (email, client, budget) =>
      retry(() => gateFor(ns, email).loginGate(client, budget ? rule("login_email") : undefined)),
    // Counting calls are not retried: a lost answer must not count one failure twice.
    lockoutFail: (email, client, budget) =>
      gateFor(ns, email).lockoutFail(client, policy, budget ? rule("login_email") : undefined),
    lockoutReset: (email, client, lift, known) =>
      retry(() => gateFor(ns, email).lockoutReset(client, lift ?? false, known ?? false)),
    secondFactorGate: (userId, challenge) => retry(() => user(userId).secondFactorGate(rule("mfa_user"), challenge)),
    secondFactorFailed: (userId, challenge) => user(userId).secondFactorFailed(rule("mfa_user"), challenge),
    reauthFailed: (userId, sessionId) => user(userId).reauthFailed(sessionId),
    reauthSucceeded: (userId, sessionId) => retry(() => user(userId).reauthSucceeded(sessionId)),
    allowEmail: (email, kind, perHour) => gateFor(ns, email).allowEmail(kind, perHour),
    authorize: (userId, input) => user(userId).authorize(input),
    home: (userId) => user(userId),
    forgetProfile: (userId) => retry(() => user(userId).forgetProfile()),
    eraseHome: (userId) => retry(() => user(userId).erase()),
    async restoreHome(userId, at) {
      const home = user(userId);
      const before = await home.instanceId();
      const scheduled = await home.scheduleRestore(at.getTime());
      if (!scheduled) return null;
      // abort() ends the call that asks for it, by design: the error is the restart, and a new
      // instance answering afterwards is the proof that it happened.
      await home.restart().catch(() => undefined);
      if ((await home.instanceId()) === before) throw new Error("the home did not restart after the restore");
      return { undo: scheduled.undo };
    },
    openEvents: (userId, upgrade) => user(userId).fetch(upgrade) as unknown as Promise<Response>,
  };
}
