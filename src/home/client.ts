/**
 * The only way into users' homes (./home.ts): a few coarse calls, each naming the user whose home
 * it reaches; no stub leaves this file.
 */
import type { LimitAnswer, Rule } from "../durable/bucket";
import type { LiveEvent } from "./events";
import type { AuthorizeAnswer, AuthorizeRequest, Home, HomeCommand, HomeResults } from "./home";
import type { HomeRead, ReadAnswer, ReadOf } from "./ledger/reads";
import type { SyncRunRow } from "./ledger/rows";
import type { RunSpec } from "./ledger/run-store";
import type { PublicUser } from "./profile";
import type { QuotaPolicy, QuotaRoom } from "./quota";
import type { BeginAnswer, CompleteAnswer, FailOutcome, SnapshotInput } from "./sync";

/** An authorization as a request asks it: the token's facts and the rule its method counts against. */
export interface Authorization<R extends string> {
  sessionId: string;
  tokenVersion: number;
  issuedAtMs: number;
  rule: R;
}

export interface HomeClient<R extends string> {
  /** The one call an authenticated request makes; with `read`, the user's data in the same call. */
  authorize(
    userId: string,
    auth: Authorization<R>,
    read?: HomeRead,
  ): Promise<{ answer: AuthorizeAnswer; data: ReadAnswer | null }>;
  /** A read of the user's own data, for a caller that authorized already (export, services). */
  read<K extends HomeRead["kind"]>(userId: string, read: Extract<HomeRead, { kind: K }>): Promise<ReadOf<K>>;
  /** Takes one token from a per-user bucket (e.g. a session's refreshes). */
  take(userId: string, rule: R, key?: string): Promise<LimitAnswer>;
  /** Refuses these sessions' access tokens at once; throws if the home cannot be told (callers fail closed). */
  revokeSessions(userId: string, sessionIds: string[]): Promise<void>;
  /** Refuses every token issued before `at` except the kept session's (revoke all/others). */
  revokeBefore(userId: string, at: Date, keep: string | null): Promise<void>;
  setMinTokenVersion(userId: string, version: number): Promise<void>;
  /** Caches the profile unless it changed since the caller's read began (`epoch`). */
  setProfile(userId: string, profile: PublicUser, epoch: number): Promise<boolean>;
  /** Drops the cached profile after a change of the user row. */
  forgetProfile(userId: string): Promise<void>;
  /** Counts a wrong re-authentication in a session; returns how many in a row. */
  reauthFailed(userId: string, sessionId: string): Promise<number>;
  reauthSucceeded(userId: string, sessionId: string): Promise<void>;
  /** The account's budget of wrong second factors (nothing taken), and whether a login challenge still lives. */
  secondFactorGate(userId: string, challenge: string | null): Promise<LimitAnswer & { challengeDead: boolean }>;
  /** Counts a wrong second factor against the account and its login challenge, if any. */
  secondFactorFailed(
    userId: string,
    challenge: { id: string; expiresAt: number } | null,
  ): Promise<{ limit: LimitAnswer; challengeFailures: number }>;
  /** Pushes a live event to the user's open sockets; best effort (never fails the caller). */
  publish(userId: string, event: LiveEvent): Promise<void>;
  /** Hands an authenticated WebSocket upgrade to the user's home, which holds the socket. */
  openEvents(userId: string, upgrade: Request): Promise<Response>;
  /** Removes a deleted connection's data and keeps its id (no late write brings it back). */
  deleteConnection(userId: string, connectionId: string): Promise<{ removedTransactions: number }>;
  /** After a restore: the data of every connection not listed goes. */
  keepConnections(userId: string, connectionIds: string[]): Promise<void>;
  /** Records a run before its message is sent (the outbox); `run: null` for a deleted connection. */
  recordRun(userId: string, run: RunSpec): Promise<{ run: SyncRunRow | null; created: boolean }>;
  inFlightRun(userId: string, connectionId: string): Promise<SyncRunRow | null>;
  findRun(userId: string, runId: string): Promise<SyncRunRow | null>;
  /** The run's message was sent again (a stuck run). */
  runSent(userId: string, runId: string): Promise<void>;
  /** A sync attempt: begin, then complete or fail (src/home/sync.ts). */
  begin(userId: string, runId: string, attempt: number, quota?: QuotaPolicy): Promise<BeginAnswer>;
  /** What is left of a connection's share of its provider's calls (./quota.ts). */
  quotaRoom(userId: string, connectionId: string, policy: QuotaPolicy): Promise<QuotaRoom>;
  complete(userId: string, snapshot: SnapshotInput, pendingStaleMs: number): Promise<CompleteAnswer>;
  fail(userId: string, runId: string, outcome: FailOutcome, events: LiveEvent[]): Promise<boolean>;
  /** Erases the user's home (account deletion): ledger, runs, limits; their tokens stop. */
  erase(userId: string): Promise<void>;
  /**
   * Restores the user's home to its state at `at` (Durable Objects point-in-time recovery) and
   * restarts it; the bookmark that undoes it, or null where the storage keeps no history.
   */
  restore(userId: string, at: Date): Promise<{ undo: string } | null>;
  /** Liveness of one home (readiness). */
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

export function createHomeClient<R extends string>(
  ns: DurableObjectNamespace<Home>,
  settings: {
    rules: Record<R, Rule>;
    /** The bucket wrong second factors spend. */
    secondFactorRule: R;
    revocationTtlMs: number;
    now: () => Date;
  },
): HomeClient<R> {
  const home = (userId: string) => ns.get(ns.idFromName(`user:${userId}`));
  // RPC erases the command's generic answer type; this restores it, in this one place.
  const run = <C extends HomeCommand>(userId: string, command: C) =>
    home(userId).command(command) as Promise<HomeResults[C["type"]]>;
  const limit = (rule: R, key?: string) => ({ name: rule, rule: settings.rules[rule], ...(key ? { key } : {}) });
  const { revocationTtlMs } = settings;
  return {
    authorize: (userId, auth, read) =>
      home(userId).authorize(
        {
          sessionId: auth.sessionId,
          tokenVersion: auth.tokenVersion,
          issuedAtMs: auth.issuedAtMs,
          limit: limit(auth.rule),
        } satisfies AuthorizeRequest,
        read,
      ),
    // RPC erases the read's kind from its answer type; the home answers the kind it was asked.
    read: <K extends HomeRead["kind"]>(userId: string, read: Extract<HomeRead, { kind: K }>) =>
      retry(() => home(userId).read(read) as Promise<ReadAnswer>) as Promise<ReadOf<K>>,
    take: (userId, rule, key) => run(userId, { type: "take", limit: limit(rule, key) }),
    async revokeSessions(userId, sessionIds) {
      if (sessionIds.length === 0) return;
      const untilMs = settings.now().getTime() + revocationTtlMs;
      await retry(() => run(userId, { type: "revokeSessions", sessionIds, untilMs }));
    },
    async revokeBefore(userId, at, keep) {
      const cutoff = { beforeSecond: Math.floor(at.getTime() / 1000), keep, until: at.getTime() + revocationTtlMs };
      await retry(() => run(userId, { type: "revokeBefore", cutoff }));
    },
    async setMinTokenVersion(userId, version) {
      await retry(() => run(userId, { type: "setMinTokenVersion", version }));
    },
    setProfile: (userId, profile, epoch) => run(userId, { type: "setProfile", profile, epoch }),
    async forgetProfile(userId) {
      await retry(() => run(userId, { type: "forgetProfile" }));
    },
    // Counting calls are not retried: a lost answer must not count one failure twice.
    reauthFailed: (userId, sessionId) => run(userId, { type: "reauthFailed", sessionId }),
    async reauthSucceeded(userId, sessionId) {
      await retry(() => run(userId, { type: "reauthSucceeded", sessionId }));
    },
    secondFactorGate: (userId, challenge) =>
      retry(() => run(userId, { type: "secondFactorGate", budget: limit(settings.secondFactorRule), challenge })),
    secondFactorFailed: (userId, challenge) =>
      run(userId, { type: "secondFactorFailed", budget: limit(settings.secondFactorRule), challenge }),
    async publish(userId, event) {
      try {
        await run(userId, { type: "publish", event });
      } catch {
        // Live events are a convenience; the source of truth stays in D1 and the audit trail.
      }
    },
    openEvents: (userId, upgrade) => home(userId).fetch(upgrade) as unknown as Promise<Response>,
    deleteConnection: (userId, connectionId) => retry(() => run(userId, { type: "deleteConnection", connectionId })),
    async keepConnections(userId, connectionIds) {
      await retry(() => run(userId, { type: "keepConnections", connectionIds }));
    },
    recordRun: (userId, spec) => retry(() => run(userId, { type: "recordRun", run: spec })),
    inFlightRun: (userId, connectionId) => retry(() => run(userId, { type: "inFlightRun", connectionId })),
    findRun: (userId, runId) => retry(() => run(userId, { type: "findRun", runId })),
    async runSent(userId, runId) {
      await retry(() => run(userId, { type: "runSent", runId }));
    },
    begin: (userId, runId, attempt, quota) =>
      run(userId, { type: "begin", runId, attempt, ...(quota ? { quota } : {}) }),
    quotaRoom: (userId, connectionId, policy) => retry(() => run(userId, { type: "quotaRoom", connectionId, policy })),
    complete: (userId, snapshot, pendingStaleMs) => run(userId, { type: "complete", snapshot, pendingStaleMs }),
    fail: (userId, runId, outcome, events) => run(userId, { type: "fail", runId, outcome, events }),
    erase: (userId) => retry(() => home(userId).erase()),
    async restore(userId, at) {
      const target = home(userId);
      const before = await target.instanceId();
      const scheduled = await target.scheduleRestore(at.getTime());
      if (!scheduled) return null;
      // abort() ends the call that asks for it, by design: the error is the restart, and a new
      // instance answering afterwards is the proof that it happened.
      await target.restart().catch(() => undefined);
      if ((await target.instanceId()) === before) throw new Error("the home did not restart after the restore");
      return { undo: scheduled.undo };
    },
    ping: () => pingHomes(ns),
  };
}

/** Liveness of the homes' namespace: one object (named `health`, no user's) answers. */
export async function pingHomes(ns: DurableObjectNamespace<Home>): Promise<void> {
  await ns.get(ns.idFromName("health")).ping();
}
