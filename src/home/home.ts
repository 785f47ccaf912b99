import { DurableObject } from "cloudflare:workers";
import { nowMs } from "../clock";
import type { LimitAnswer, LimitRequest } from "../durable/bucket";
import { BucketStore } from "../durable/bucket-store";
import { migrate } from "../durable/migrate";
import { effectiveEnvironment } from "../environment";
import type { GlobalRotation, StagedRestore } from "../limiter/global";
import type { Limiter, LimiterResults } from "../limiter/limiter";
import { createLogger, type Logger, logLevelOf } from "../logger";
import { EVENTS_PROTOCOL, type LiveEvent } from "./events";
import { BalanceHistory } from "./ledger/history";
import { type HomeRead, type ReadAnswer, readLedger } from "./ledger/reads";
import type { SyncRunRow } from "./ledger/rows";
import { type RunSpec, Runs } from "./ledger/run-store";
import { Ledger } from "./ledger/store";
import { DEFAULT_PENDING_STALE_MS, tendLedger } from "./ledger/tend";
import { ProfileCache, type PublicUser } from "./profile";
import { ProviderQuotas, type QuotaPolicy, type QuotaRoom } from "./quota";
import { type Cutoff, Revocations } from "./revocations";
import { CHALLENGE_MAX_FAILURES, ChallengeFailures, ReauthFailures } from "./second-factor";
import { type SocketInfo, Sockets, socketInfoOf } from "./sockets";
import { HOME_SCHEMA } from "./steps";
import {
  type BeginAnswer,
  begin,
  type CompleteAnswer,
  complete,
  type FailOutcome,
  fail,
  type SnapshotInput,
} from "./sync";
import { Tombstones } from "./tombstones";

export interface AuthorizeRequest {
  sessionId: string;
  tokenVersion: number;
  issuedAtMs: number;
  limit?: LimitRequest;
}

export interface AuthorizeAnswer {
  revoked: boolean;
  versionOk: boolean;
  rate: LimitAnswer | null;
  /** The session's last activity is over a minute old in D1: worth one write. */
  touch: boolean;
}

/**
 * Every synchronous thing a home does, as one union (the facade in ./client.ts builds them);
 * each runs in one `transactionSync`. Authorization (it may ask the `global` Limiter), erasure,
 * restores, the live-events socket and the alarm are methods of their own.
 */
export type HomeCommand =
  | { type: "take"; limit: LimitRequest }
  | { type: "revokeSessions"; sessionIds: string[]; untilMs: number }
  | { type: "revokeBefore"; cutoff: Cutoff }
  | { type: "setMinTokenVersion"; version: number }
  | { type: "setProfile"; profile: PublicUser; epoch: number }
  | { type: "forgetProfile" }
  | { type: "reauthFailed"; sessionId: string }
  | { type: "reauthSucceeded"; sessionId: string }
  | { type: "secondFactorGate"; budget: LimitRequest; challenge: string | null }
  | { type: "secondFactorFailed"; budget: LimitRequest; challenge: { id: string; expiresAt: number } | null }
  | { type: "publish"; event: LiveEvent }
  | { type: "deleteConnection"; connectionId: string }
  | { type: "keepConnections"; connectionIds: string[] }
  | { type: "recordRun"; run: RunSpec }
  | { type: "inFlightRun"; connectionId: string }
  | { type: "findRun"; runId: string }
  | { type: "runSent"; runId: string }
  | { type: "begin"; runId: string; attempt: number; quota?: QuotaPolicy }
  | { type: "quotaRoom"; connectionId: string; policy: QuotaPolicy }
  | { type: "complete"; snapshot: SnapshotInput; pendingStaleMs: number }
  | { type: "fail"; runId: string; outcome: FailOutcome; events: LiveEvent[] };

/** What each command answers. */
export interface HomeResults {
  take: LimitAnswer;
  revokeSessions: null;
  revokeBefore: null;
  setMinTokenVersion: number;
  setProfile: boolean;
  forgetProfile: null;
  reauthFailed: number;
  reauthSucceeded: null;
  secondFactorGate: LimitAnswer & { challengeDead: boolean };
  secondFactorFailed: { limit: LimitAnswer; challengeFailures: number };
  publish: number;
  deleteConnection: { removedTransactions: number };
  keepConnections: { removed: string[] };
  recordRun: { run: SyncRunRow | null; created: boolean };
  inFlightRun: SyncRunRow | null;
  findRun: SyncRunRow | null;
  runSent: null;
  begin: BeginAnswer;
  quotaRoom: QuotaRoom;
  complete: CompleteAnswer;
  fail: boolean;
}

const GLOBAL_CACHE_MS = 60_000; // docs/contract.md "Administration": global rotation reaches access tokens within 60 s.
const APPLIED_RESTORE_KEY = "applied_restore";
const PENDING_STALE_KEY = "pending_stale_ms";
const TOUCH_EVERY_MS = 60_000;
/** An erased account's sessions answer "revoked" this long (longer than any access token lives). */
const ERASED_CUTOFF_MS = 86_400_000;
const MIN_VERSION_KEY = "min_version";
/** A home with a ledger checks its runs and pending transactions at least this often. */
const RECONCILE_EVERY_MS = 3_600_000;

/**
 * A user's home: one Durable Object per user (`user:<id>`), the single owner of their sessions'
 * revocations, token version, per-user buckets, cached profile, live-event sockets and their
 * ledger with its sync runs (docs/design.md "The user's home"). Single-threaded, so every
 * decision is exact and a sync's plan and write cannot interleave with another write; everything
 * that must outlive eviction is in its SQLite. It imports nothing of the layers above it.
 */
export class Home extends DurableObject<Env> {
  private buckets!: BucketStore;
  private revocations!: Revocations;
  private tombstones!: Tombstones;
  private profile!: ProfileCache;
  private challenges!: ChallengeFailures;
  private reauth!: ReauthFailures;
  private ledger!: Ledger;
  private runs!: Runs;
  private quotas!: ProviderQuotas;
  private history!: BalanceHistory;
  private readonly sockets: Sockets;
  private minVersion = 0;
  private global: { value: GlobalRotation; fetchedAt: number } | null = null;
  private touched = new Map<string, number>();
  private alarmAt: number | null = null;
  /** Which instance answers: a restart (e.g. a restore) gives a new one. */
  private readonly instance = crypto.randomUUID();
  /** What the Worker runs as (src/environment.ts): only local test runs move this object's clock. */
  private readonly environment: string;
  private readonly log: Logger;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.environment = effectiveEnvironment(env as unknown as Record<string, unknown>);
    this.log = createLogger(logLevelOf(env.LOG_LEVEL), { object: "home" });
    this.sockets = new Sockets(ctx);
    ctx.blockConcurrencyWhile(() => this.open());
  }

  /** Brings the schema up to date and loads what the object keeps in memory. */
  private async open() {
    const { storage } = this.ctx;
    migrate(storage, HOME_SCHEMA);
    this.buckets = new BucketStore(storage.sql);
    this.revocations = new Revocations(storage);
    this.tombstones = new Tombstones(storage);
    this.profile = new ProfileCache(storage.kv);
    this.challenges = new ChallengeFailures(storage.sql);
    this.reauth = new ReauthFailures(storage.sql);
    this.ledger = new Ledger(storage);
    this.runs = new Runs(storage.sql);
    this.quotas = new ProviderQuotas(storage.sql);
    this.history = new BalanceHistory(storage.sql);
    this.minVersion = storage.kv.get<number>(MIN_VERSION_KEY) ?? 0;
    this.global = null;
    this.touched.clear();
    this.alarmAt = await storage.getAlarm();
  }

  /** Epoch ms from the one clock (src/clock.ts), so tests can move the home's time too. */
  private now(): number {
    return nowMs(this.environment);
  }

  /** The user whose home this is, from the object's name (`user:<id>`). */
  private get userId(): string | null {
    const name = this.ctx.id.name;
    return name?.startsWith("user:") ? name.slice(5) : null;
  }

  /** Liveness probe used by /health/ready. */
  ping(): { ok: true } {
    return { ok: true };
  }

  /**
   * The one call an authenticated request makes: is the session revoked, is the token version
   * (per-user, and the global rotation) still valid, may the request pass its rate limit, and,
   * when it may, the read of the user's own data in the same call (no D1 on the hot path).
   */
  async authorize(
    input: AuthorizeRequest,
    read?: HomeRead,
  ): Promise<{ answer: AuthorizeAnswer; data: ReadAnswer | null }> {
    const now = this.now();
    // First: a home just restored applies its staged restore here, before anything is decided.
    const global = await this.globalRotation(now);
    const revoked = this.revocations.refuses(input.sessionId, Math.floor(input.issuedAtMs / 1000), now);
    const versionOk = input.tokenVersion >= this.minVersion && input.issuedAtMs >= global.notBefore;
    const rate = input.limit && !revoked && versionOk ? this.take(input.limit, now) : null;
    const last = this.touched.get(input.sessionId) ?? 0;
    const touch = !revoked && now - last >= TOUCH_EVERY_MS;
    if (touch) this.touched.set(input.sessionId, now);
    const answer = { revoked, versionOk, rate, touch };
    const through = !revoked && versionOk && (rate?.allowed ?? true);
    return { answer, data: read && through ? this.read(read) : null };
  }

  /** A read of the user's own data without the questions (the caller already asked them). */
  read(read: HomeRead): ReadAnswer {
    return readLedger(this.ledger, this.history, this.runs, () => this.profile.read(this.now()), read);
  }

  /** Runs one command in one transaction. */
  command<C extends HomeCommand>(command: C): HomeResults[C["type"]] {
    return this.ctx.storage.transactionSync(() => this.handle(command)) as HomeResults[C["type"]];
  }

  private handle(c: HomeCommand): HomeResults[HomeCommand["type"]] {
    const now = this.now();
    const parts = {
      ledger: this.ledger,
      runs: this.runs,
      sockets: this.sockets,
      tombstones: this.tombstones,
      quotas: this.quotas,
      retire: (connectionId: string, at: number) => this.deleteConnection(connectionId, at),
      // Already inside the command's transaction.
      transaction: <T>(work: () => T) => work(),
    };
    switch (c.type) {
      case "take":
        return this.take(c.limit, now);
      case "revokeSessions":
        this.revokeSessions(c.sessionIds, c.untilMs);
        return null;
      case "revokeBefore":
        this.revokeBefore(c.cutoff);
        return null;
      case "setMinTokenVersion":
        return this.setMinTokenVersion(c.version);
      case "setProfile":
        return !this.tombstones.erased && this.profile.set(c.profile, c.epoch, now);
      case "forgetProfile":
        this.profile.forget();
        return null;
      case "reauthFailed":
        return this.reauth.fail(c.sessionId);
      case "reauthSucceeded":
        this.reauth.clear(c.sessionId);
        return null;
      case "secondFactorGate":
        return {
          ...this.buckets.peekLimit(c.budget, now),
          challengeDead: c.challenge !== null && this.challenges.count(c.challenge) >= CHALLENGE_MAX_FAILURES,
        };
      case "secondFactorFailed": {
        const limit = this.take(c.budget, now);
        if (!c.challenge) return { limit, challengeFailures: 0 };
        this.wakeBy(c.challenge.expiresAt);
        return { limit, challengeFailures: this.challenges.fail(c.challenge) };
      }
      case "publish":
        return this.sockets.publish(c.event);
      case "deleteConnection":
        return { removedTransactions: this.deleteConnection(c.connectionId, now) };
      case "keepConnections":
        return { removed: this.keepConnections(c.connectionIds, now) };
      case "recordRun": {
        if (this.tombstones.refuses(c.run.connectionId)) return { run: null, created: false };
        const recorded = this.runs.record(c.run, now);
        const resend = this.runs.nextResend();
        if (resend !== null) this.wakeBy(resend);
        return recorded;
      }
      case "inFlightRun":
        return this.runs.inFlight(c.connectionId);
      case "findRun":
        return this.runs.find(c.runId);
      case "runSent":
        this.runs.update(c.runId, { sent_at: now });
        return null;
      case "begin": {
        const answer = begin(parts, c.runId, c.attempt, now, c.quota);
        this.logRun(c.runId, `sync begin: ${answer.kind}`, { attempt: c.attempt });
        return answer;
      }
      case "quotaRoom":
        return this.quotas.room(c.connectionId, c.policy, now);
      case "complete": {
        const answer = complete(parts, c.snapshot, now);
        this.logRun(c.snapshot.runId, `sync complete: ${answer.kind}`, {
          rows_written: answer.kind === "applied" ? answer.stats.rows_written : 0,
        });
        if (answer.kind === "applied") {
          this.ctx.storage.kv.put(PENDING_STALE_KEY, c.pendingStaleMs);
          this.wakeBy(now + RECONCILE_EVERY_MS);
        }
        return answer;
      }
      case "fail":
        this.logRun(c.runId, `sync ${c.outcome.status}`, { code: c.outcome.error.code });
        return fail(parts, c.runId, c.outcome, c.events, now);
    }
  }

  /** One line per step of a sync, with the run's trace: a search by `trace_id` reaches the home. */
  private logRun(runId: string, msg: string, fields: Record<string, unknown>) {
    const run = this.runs.find(runId);
    this.log.info(msg, {
      run_id: runId,
      connection_id: run?.connectionId,
      trace_id: run?.traceId ?? undefined,
      ...fields,
    });
  }

  /** Takes one token from a bucket of this user. */
  private take(req: LimitRequest, now: number): LimitAnswer {
    const answer = this.buckets.limit(req, now);
    this.wakeBy(now + answer.resetSeconds * 1000);
    return answer;
  }

  /**
   * Erases the user's home (account deletion): every row and key goes with `deleteAll()`, open
   * sockets close, and markers stay so the erased user's tokens are refused (every session counts
   * as revoked while an access token could live; no token version is ever enough) and every later
   * write is refused (a sync that fetched before the deletion writes nothing). Nothing personal
   * remains.
   */
  async erase(): Promise<void> {
    this.sockets.endWhere("account deleted", () => true);
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    await this.open();
    const now = this.now();
    this.tombstones.markErased(now);
    this.revokeBefore({ beforeSecond: Number.MAX_SAFE_INTEGER, keep: null, until: now + ERASED_CUTOFF_MS });
    this.setMinTokenVersion(Number.MAX_SAFE_INTEGER);
  }

  /**
   * Point-in-time recovery, first step: SQLite-backed objects keep 30 days of history; the state
   * at `atMs` becomes what this object starts from next time. Returns the bookmark that undoes
   * it (today's state), or null where the storage keeps no history (local workerd).
   */
  async scheduleRestore(atMs: number): Promise<{ undo: string } | null> {
    let bookmark: string;
    try {
      bookmark = await this.ctx.storage.getBookmarkForTime(atMs);
    } catch (err) {
      if (/point-in-time recovery/i.test(String(err))) return null;
      throw err;
    }
    return { undo: await this.ctx.storage.onNextSessionRestoreBookmark(bookmark) };
  }

  instanceId(): string {
    return this.instance;
  }

  /** Second step: ends this instance (and its sockets), so the next call starts at the bookmark. */
  restart(): void {
    this.sockets.endWhere("restoring", () => true);
    this.ctx.abort("restoring the home to an earlier point");
  }

  /**
   * Accepts a live-events WebSocket for an already authenticated session (the Worker checked
   * the token and passes its session, version, issue and expiry). Hibernatable: an idle socket
   * costs no duration; it is closed when its token stops counting (docs/contract.md "Live events").
   */
  override async fetch(request: Request): Promise<Response> {
    const socket = socketInfoOf(request.headers);
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket" || !socket) {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.sockets.accept(server, socket);
    this.wakeBy(Math.min(socket.expiresAt, this.now() + GLOBAL_CACHE_MS));
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: { "Sec-WebSocket-Protocol": EVENTS_PROTOCOL },
    });
  }

  /** Clients may ping; everything else they send is ignored (the stream is one-way). */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (message === "ping") ws.send("pong");
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      // Complete the closing handshake (RFC 6455 §5.5.1); 1005 "no status" may not be sent back.
      ws.close(code === 1005 ? 1000 : code, "bye");
    } catch {}
  }

  /** Refuses these sessions' access tokens until `untilMs` (when they could no longer be valid). */
  private revokeSessions(sessionIds: string[], untilMs: number): void {
    this.sockets.endSessions(sessionIds);
    this.revocations.add(sessionIds, untilMs);
    this.wakeBy(untilMs);
  }

  /** Refuses every token issued before the cut, but those of `cutoff.keep` (revoke all/others). */
  private revokeBefore(cutoff: Cutoff): void {
    this.revocations.setCutoff(cutoff);
    this.sockets.endWhere("session revoked", (s) => s.sessionId !== cutoff.keep && s.iatSeconds < cutoff.beforeSecond);
    this.wakeBy(cutoff.until);
  }

  /**
   * Raises the minimum token version (never lowers it, so a late message cannot undo a
   * rotation); sockets opened with an older token close.
   */
  private setMinTokenVersion(version: number): number {
    this.minVersion = Math.max(this.minVersion, version);
    this.ctx.storage.kv.put(MIN_VERSION_KEY, this.minVersion);
    this.sockets.endWhere("tokens rotated", (s) => (s.tokenVersion ?? 0) < this.minVersion);
    return this.minVersion;
  }

  /**
   * Removes a deleted connection's data (its transactions leave the feed as removed) and keeps
   * its id, so a run that fetched before the deletion writes nothing when it arrives.
   */
  private deleteConnection(connectionId: string, now: number): number {
    this.tombstones.bury(connectionId, now);
    this.quotas.forget(connectionId);
    return this.ledger.deleteConnection(connectionId, now);
  }

  /** After a restore: removes the data of connections the directory no longer has. */
  private keepConnections(ids: string[], now: number): string[] {
    const keep = new Set(ids);
    const removed = this.ledger.connectionIds().filter((id) => !keep.has(id));
    for (const id of removed) this.deleteConnection(id, now);
    return removed;
  }

  /**
   * The global rotation, from the `global` Limiter at most once a minute, and always first after
   * this object starts: a home just restored to an earlier point applies its staged restore
   * then, before it answers anything.
   */
  private async globalRotation(now: number): Promise<GlobalRotation> {
    if (this.global && now - this.global.fetchedAt < GLOBAL_CACHE_MS) return this.global.value;
    const limiter: DurableObjectStub<Limiter> = this.env.LIMITER.get(this.env.LIMITER.idFromName("global"));
    // RPC erases the command's generic answer type; this is the readGlobal answer.
    const answer = (await limiter.command({ type: "readGlobal", userId: this.userId })) as LimiterResults["readGlobal"];
    const { restore, ...value } = answer;
    if (restore && this.ctx.storage.kv.get<string>(APPLIED_RESTORE_KEY) !== restore.id) {
      this.ctx.storage.transactionSync(() => this.applyRestore(restore, now));
    }
    this.global = { value, fetchedAt: now };
    return value;
  }

  /** Brings a restored home in line with the directory (once per restore). */
  private applyRestore(r: StagedRestore, now: number) {
    this.revokeBefore({ beforeSecond: r.cutSecond, keep: null, until: r.revokedUntil });
    if (r.revokedSessionIds.length > 0) this.revokeSessions(r.revokedSessionIds, r.revokedUntil);
    this.setMinTokenVersion(r.minTokenVersion);
    this.keepConnections(r.connectionIds, now);
    this.profile.forget();
    this.ctx.storage.kv.put(APPLIED_RESTORE_KEY, r.id);
  }

  /** Makes sure an alarm runs no later than `at` (the alarm then plans the next one itself). */
  private wakeBy(at: number) {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  /**
   * Housekeeping (alarms are at-least-once, so every step is idempotent): forgets what can no
   * longer matter, closes sockets whose token expired or predates a global rotation, tends the
   * ledger, and plans the next run.
   */
  override async alarm(): Promise<void> {
    const now = this.now();
    this.alarmAt = null;
    this.revocations.purge(now);
    this.buckets.purge(now);
    this.tombstones.purge(now);
    this.challenges.purge(now);
    this.sockets.endExpired(now);
    if (this.sockets.open > 0) {
      const global = await this.globalRotation(now);
      this.sockets.endWhere("tokens rotated", (s) => s.iatSeconds * 1000 < global.notBefore);
    }
    const userId = this.userId;
    const tended = !this.ledger.isEmpty() || !this.runs.isEmpty();
    if (tended && userId) {
      await tendLedger(
        {
          ledger: this.ledger,
          runs: this.runs,
          userId,
          queue: this.env.SYNC_QUEUE,
          pendingStaleMs: this.ctx.storage.kv.get<number>(PENDING_STALE_KEY) ?? DEFAULT_PENDING_STALE_MS,
          warn: (message, fields) => this.log.warn(message, fields),
        },
        now,
      );
    }
    const next = [
      tended ? now + RECONCILE_EVERY_MS : null,
      this.runs.nextResend(),
      this.revocations.nextPurge(),
      this.buckets.nextPurge(),
      this.tombstones.nextPurge(),
      this.challenges.nextPurge(),
      this.sockets.nextExpiry(),
      this.sockets.open > 0 ? now + GLOBAL_CACHE_MS : null,
    ].filter((t): t is number => t !== null);
    if (next.length) this.wakeBy(Math.max(now + 1000, Math.min(...next)));
  }
}

export type { Cutoff, SocketInfo };
