import { DurableObject } from "cloudflare:workers";
import { nowMs } from "../clock";
import { effectiveEnvironment, loadConfig } from "../config";
import { newId } from "../crypto/random";
import { createDb } from "../db/client";
import { type LedgerAnswer, type LedgerRead, readLedger } from "../ledger/reads";
import type { SyncRunRow, SyncTrigger } from "../ledger/rows";
import { type RunPatch, Runs } from "../ledger/runs";
import { Ledger } from "../ledger/store";
import { tendLedger } from "../ledger/tend";
import { createLogger } from "../logger";
import type { PublicUser } from "../services/identity/users";
import { type AnsweredAccount, type PlanCounts, planSync } from "../services/sync/plan";
import type { Decision } from "./bucket";
import { BucketStore } from "./bucket-store";
import { EmailQuota } from "./email-quota";
import { EVENTS_PROTOCOL, type LiveEvent } from "./events";
import { GATE_SCHEMA } from "./gate-schema";
import { KnownClients } from "./known-clients";
import { type LockoutAnswer, type LockoutPolicy, LockoutStore } from "./lockout-store";
import { type Cutoff, Revocations } from "./revocations";
import type { Rule } from "./rules";
import { migrate } from "./schema";
import { type SocketInfo, Sockets } from "./sockets";
import { Tombstones } from "./tombstones";

/** A rate-limit check: which rule, its bucket parameters, and an optional sub-key. */
export interface LimitRequest {
  name: string;
  rule: Rule;
  /** Distinguishes buckets of one rule within a subject (e.g. a session id). */
  key?: string;
}

export interface LimitAnswer extends Decision {
  name: string;
  rule: Rule;
  /** True for the first refusal after the bucket last allowed a request (audit once per burst). */
  firstDenial: boolean;
}

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

/** The global rotation state held by the `global` Gate. */
export interface GlobalRotation {
  version: number;
  /** Access tokens issued (iat, ms) before this are refused. */
  notBefore: number;
}

/**
 * What a home restored to an earlier point must apply before it serves anything (the directory's
 * view when the restore was staged): docs/security.md, second pass item 8.
 */
export interface StagedRestore {
  id: string;
  /** Tokens issued before this second are refused (but none is kept). */
  cutSecond: number;
  /** Sessions D1 revoked while their access tokens could still live. */
  revokedSessionIds: string[];
  /** How long those revocations must be kept (epoch ms). */
  revokedUntil: number;
  minTokenVersion: number;
  /** The user's connections in the directory: the data of any other goes again. */
  connectionIds: string[];
  stagedAt: number;
}

export type { Cutoff, LockoutAnswer, LockoutPolicy, SocketInfo };

/** Accounts a sync re-linked from the user's other connections, and the connections left empty. */
export type Relinked = { moved: number; emptied: string[] };

/** A login's lock state at an address, and its per-address budget of failures (null: a known client). */
export interface LoginGateAnswer {
  lockedUntil: number | null;
  budget: LimitAnswer | null;
}

/** How many wrong codes a login challenge (`mfa_token`) survives. */
export const CHALLENGE_MAX_FAILURES = 5;

const GLOBAL_CACHE_MS = 60_000; // docs/contract.md "Administration": global rotation reaches access tokens within 60 s.
/** A staged restore is offered to its home this long (a restore restarts the home at once). */
const STAGED_RESTORE_MS = 86_400_000;
const RESTORE_PREFIX = "restore:";
const APPLIED_RESTORE_KEY = "applied_restore";
const TOUCH_EVERY_MS = 60_000;
/** An erased account's sessions answer "revoked" this long (longer than any access token lives). */
const ERASED_CUTOFF_MS = 86_400_000;
const MIN_VERSION_KEY = "min_version";
const PROFILE_KEY = "profile";
const PROFILE_EPOCH_KEY = "profile_epoch";
/**
 * A cached profile is trusted this long: every change of the user row forgets it, and this
 * bounds how stale it can be if forgetting ever failed (a home unreachable at that moment).
 */
const PROFILE_TTL_MS = 10 * 60_000;
/** The user whose home this is (for audit rows the home writes itself). */
const OWNER_KEY = "owner";
/** A home with a ledger checks its runs and pending transactions at least this often. */
const RECONCILE_EVERY_MS = 3_600_000;

/**
 * The Gate: one Durable Object per subject (`user:<id>`, `ip:<client>`, `email:<sha256>`, and
 * `global`), the single owner of that subject's token buckets, revocations, token versions,
 * per-client login lockouts and email quotas (docs/design.md "The Gate"). Single-threaded, so
 * every decision is exact; everything that must outlive eviction is in its SQLite.
 */
export class Gate extends DurableObject<Env> {
  private buckets!: BucketStore;
  private lockouts!: LockoutStore;
  private quota!: EmailQuota;
  private revocations!: Revocations;
  private knownClients!: KnownClients;
  private tombstones!: Tombstones;
  private ledger!: Ledger;
  private runs!: Runs;
  private sockets: Sockets;
  private minVersion = 0;
  private global: { value: GlobalRotation; fetchedAt: number } | null = null;
  private touched = new Map<string, number>();
  private alarmAt: number | null = null;
  /** The profile and its epoch as stored (PROFILE_KEY, PROFILE_EPOCH_KEY), once read. */
  private profileCache: { value: { profile: PublicUser; at: number } | null; epoch: number } | null = null;
  /** Which instance answers: a restart (e.g. a restore) gives a new one. */
  private readonly instance = crypto.randomUUID();
  /** What the Worker runs as (src/config.ts): only local test runs move this object's clock. */
  private readonly environment: string;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.environment = effectiveEnvironment(env as unknown as Record<string, unknown>);
    this.sockets = new Sockets(ctx);
    ctx.blockConcurrencyWhile(() => this.open());
  }

  /** Brings the schema up to date and loads what the object keeps in memory. */
  private async open() {
    const { storage } = this.ctx;
    migrate(storage, GATE_SCHEMA);
    this.buckets = new BucketStore(storage.sql);
    this.lockouts = new LockoutStore(storage.sql);
    this.quota = new EmailQuota(storage.sql);
    this.revocations = new Revocations(storage);
    this.knownClients = new KnownClients(storage.sql);
    this.tombstones = new Tombstones(storage);
    this.ledger = new Ledger(storage);
    this.runs = new Runs(storage.sql);
    this.minVersion = storage.kv.get<number>(MIN_VERSION_KEY) ?? 0;
    this.global = null;
    this.profileCache = null;
    this.touched.clear();
    this.alarmAt = await storage.getAlarm();
  }

  /**
   * Erases the user's home (account deletion): every row and key goes with `deleteAll()`, open
   * sockets close, and two markers stay so the erased user's tokens are refused: every session
   * counts as revoked while an access token could live, no token version is ever enough, and
   * the erased mark refuses every later write (a sync that fetched before the deletion finds
   * it here and writes nothing). Nothing personal remains.
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

  /** Epoch ms from the one clock (src/clock.ts), so tests can move the Gate's time too. */
  private now(): number {
    return nowMs(this.environment);
  }

  /** Liveness probe used by /health/ready. */
  async ping(): Promise<{ ok: true }> {
    return { ok: true };
  }

  /** Takes one token from a bucket of this subject. */
  limit(req: LimitRequest, now = this.now()): LimitAnswer {
    const id = req.key ? `${req.name}:${req.key}` : req.name;
    const decision = this.buckets.take(id, req.rule, now);
    this.wakeBy(now + decision.resetSeconds * 1000);
    return { ...decision, name: req.name, rule: req.rule };
  }

  /**
   * The one call an authenticated request makes: is the session revoked, is the token version
   * (per-user, and the global rotation) still valid, and may the request pass its rate limit.
   */
  async authorize(input: AuthorizeRequest): Promise<AuthorizeAnswer> {
    const now = this.now();
    // First: a home just restored applies its staged restore here, before anything is decided.
    const global = await this.globalRotation(now);
    const revoked = this.revocations.refuses(input.sessionId, Math.floor(input.issuedAtMs / 1000), now);
    const versionOk = input.tokenVersion >= this.minVersion && input.issuedAtMs >= global.notBefore;
    const rate = input.limit && !revoked && versionOk ? this.limit(input.limit, now) : null;
    const last = this.touched.get(input.sessionId) ?? 0;
    const touch = !revoked && now - last >= TOUCH_EVERY_MS;
    if (touch) this.touched.set(input.sessionId, now);
    return { revoked, versionOk, rate, touch };
  }

  /**
   * The Gate's questions and the read of the user's own data in ONE call: an authenticated read
   * of the user's ledger never leaves this object (no D1 query on the hot path). The data is
   * read only when the answer lets the request through.
   */
  async authorizeAndRead(
    input: AuthorizeRequest,
    read: LedgerRead,
  ): Promise<{ answer: AuthorizeAnswer; data: LedgerAnswer | null }> {
    const answer = await this.authorize(input);
    const through = !answer.revoked && answer.versionOk && (answer.rate?.allowed ?? true);
    return { answer, data: through ? readLedger(this.ledger, this.runs, () => this.profile(), read) : null };
  }

  /** A read of the user's own data without the Gate's questions (the caller already asked them). */
  read(read: LedgerRead): LedgerAnswer {
    return readLedger(this.ledger, this.runs, () => this.profile(), read);
  }

  /** The cached profile, from memory after the first read (two storage reads cost more than the rest of `/auth/me`). */
  private profile(): { profile: PublicUser | null; epoch: number } {
    this.profileCache ??= {
      value: this.ctx.storage.kv.get<{ profile: PublicUser; at: number }>(PROFILE_KEY) ?? null,
      epoch: this.ctx.storage.kv.get<number>(PROFILE_EPOCH_KEY) ?? 0,
    };
    const { value, epoch } = this.profileCache;
    return { profile: value && this.now() - value.at < PROFILE_TTL_MS ? value.profile : null, epoch };
  }

  /**
   * Caches the user's public profile (read back by `GET /auth/me` without D1), unless it was
   * forgotten since the caller's read began (`epoch`): a change that landed meanwhile wins.
   */
  setProfile(profile: PublicUser, epoch: number): boolean {
    if (this.tombstones.erased || this.profile().epoch !== epoch) return false;
    const value = { profile, at: this.now() };
    this.ctx.storage.kv.put(PROFILE_KEY, value);
    this.profileCache = { value, epoch };
    return true;
  }

  /** Drops the cached profile: every change of the user row calls this after writing D1. */
  forgetProfile(): void {
    const epoch = this.profile().epoch + 1;
    this.ctx.storage.kv.delete(PROFILE_KEY);
    this.ctx.storage.kv.put(PROFILE_EPOCH_KEY, epoch);
    this.profileCache = { value: null, epoch };
  }

  /**
   * Notes one of the user's connections (created or completed), so reads can tell it is theirs;
   * false (nothing written) for a deleted connection or an erased account.
   */
  recordConnection(userId: string, id: string, provider: string): boolean {
    if (this.tombstones.refuses(id)) return false;
    this.ctx.storage.kv.put(OWNER_KEY, userId);
    this.ledger.recordConnection(id, provider);
    return true;
  }

  /**
   * Records a queued run (idempotent on its key) before its message is sent: the outbox. A
   * deleted connection or an erased account gets no run (`run: null`).
   */
  beginRun(run: { id: string; connectionId: string; trigger: SyncTrigger; idempotencyKey: string }): {
    run: SyncRunRow | null;
    created: boolean;
  } {
    if (this.tombstones.refuses(run.connectionId)) return { run: null, created: false };
    const now = this.now();
    const begun = this.runs.begin(run, now);
    const resend = this.runs.nextResend();
    if (resend !== null) this.wakeBy(resend);
    return begun;
  }

  /** The run, marked `running` at this attempt if it is still in flight (else as it is). */
  startRun(id: string, attempt: number): SyncRunRow | null {
    const run = this.runs.find(id);
    if (!run || !["queued", "running", "retrying"].includes(run.status)) return run;
    const now = this.now();
    this.runs.update(id, {
      status: "running",
      attempts: attempt,
      started_at: run.startedAt?.getTime() ?? now,
      next_attempt_at: null,
    });
    return this.runs.find(id);
  }

  findRun(id: string): SyncRunRow | null {
    return this.runs.find(id);
  }

  /** Updates an unfinished run (between attempts; a resend). */
  updateRun(id: string, patch: RunPatch): void {
    this.runs.update(id, patch);
  }

  /** Finishes a run unless it already is; true when this call finished it. */
  finishRun(id: string, patch: RunPatch): boolean {
    return this.runs.finish(id, { finished_at: this.now(), ...patch });
  }

  inFlightRun(connectionId: string): SyncRunRow | null {
    return this.runs.inFlight(connectionId);
  }

  /** What a sync needs to fetch: the provider accounts this ledger holds for the connection. */
  syncContext(connectionId: string): { knownAccounts: string[] } {
    return { knownAccounts: this.ledger.knownAccounts(connectionId) };
  }

  /**
   * Plans and applies one sync's complete snapshot in one transaction. Single-threaded, so two
   * syncs of this user never interleave; a snapshot older than the last one applied (a run that
   * lost its lease and arrived late) changes nothing.
   */
  applySync(
    userId: string,
    connectionId: string,
    provider: string,
    answer: AnsweredAccount[],
    fetchedAt: number,
  ):
    | { gone: true; stale?: never }
    | { gone?: never; stale: true }
    | { gone?: never; stale: false; counts: PlanCounts; rowsWritten: number; relinked: Relinked } {
    // Deleted while the sync talked to the provider: nothing comes back.
    if (!this.recordConnection(userId, connectionId, provider)) return { gone: true };
    const applied = this.ledger.connectionState(connectionId)?.appliedFetchedAt ?? null;
    if (applied !== null && applied > fetchedAt) return { stale: true };
    // One transaction: the re-link and the snapshot land together or not at all.
    return this.ctx.storage.transactionSync(() => {
      const ids = answer.map((a) => a.account.providerAccountId);
      const relinked = this.ledger.adopt(connectionId, provider, ids);
      const plan = planSync(this.ledger.storedState(connectionId, answer), answer, newId);
      const rowsWritten = this.ledger.apply(connectionId, plan, this.now(), fetchedAt);
      this.wakeBy(this.now() + RECONCILE_EVERY_MS);
      return { stale: false as const, counts: plan.counts, rowsWritten, relinked };
    });
  }

  /** After a restore: removes the data of connections the directory no longer has. */
  keepConnections(ids: string[]): { removed: string[] } {
    const keep = new Set(ids);
    const removed = this.ledger.connectionIds().filter((id) => !keep.has(id));
    for (const id of removed) this.deleteConnectionData(id);
    return { removed };
  }

  /**
   * Removes a deleted connection's data (its transactions leave the feed as removed) and keeps
   * its id, so a run that fetched before the deletion writes nothing when it arrives.
   */
  deleteConnectionData(connectionId: string): { removedTransactions: number } {
    const now = this.now();
    this.tombstones.bury(connectionId, now);
    return { removedTransactions: this.ledger.deleteConnection(connectionId, now) };
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

  /** Sends an event to every open socket of this user (or of one session). */
  publish(event: LiveEvent, sessionId?: string): number {
    return this.sockets.publish(event, sessionId);
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
  revokeSessions(sessionIds: string[], untilMs: number): void {
    this.sockets.endSessions(sessionIds);
    this.revocations.add(sessionIds, untilMs);
    this.wakeBy(untilMs);
  }

  /** Refuses every token issued before the cut, but those of `cutoff.keep` (revoke all/others). */
  revokeBefore(cutoff: Cutoff): void {
    this.revocations.setCutoff(cutoff);
    this.sockets.endWhere("session revoked", (s) => s.sessionId !== cutoff.keep && s.iatSeconds < cutoff.beforeSecond);
    this.wakeBy(cutoff.until);
  }

  /**
   * Raises the minimum token version (never lowers it, so a late message cannot undo a
   * rotation); sockets opened with an older token close.
   */
  setMinTokenVersion(version: number): number {
    this.minVersion = Math.max(this.minVersion, version);
    this.ctx.storage.kv.put(MIN_VERSION_KEY, this.minVersion);
    this.sockets.endWhere("tokens rotated", (s) => (s.tokenVersion ?? 0) < this.minVersion);
    return this.minVersion;
  }

  /** On the `global` Gate: starts a global rotation now. */
  rotateGlobal(now = this.now()): GlobalRotation {
    const current = this.readGlobal();
    const next = { version: current.version + 1, notBefore: now };
    this.ctx.storage.kv.put("global", next);
    return next;
  }

  /**
   * On the `global` Gate: the current global rotation, and for a user's home the restore staged
   * for it, if any (each home asks at its first authorization after it starts).
   */
  readGlobal(userId?: string): GlobalRotation & { restore: StagedRestore | null } {
    const rotation = this.ctx.storage.kv.get<GlobalRotation>("global") ?? { version: 0, notBefore: 0 };
    const staged = userId ? this.ctx.storage.kv.get<StagedRestore>(RESTORE_PREFIX + userId) : undefined;
    const restore = staged && this.now() - staged.stagedAt < STAGED_RESTORE_MS ? staged : null;
    return { ...rotation, restore };
  }

  /**
   * On the `global` Gate: stages what a user's home must apply once restored, before the restore
   * restarts it. Stored here rather than in the home, whose own storage the restore rewinds.
   */
  stageRestore(userId: string, restore: StagedRestore): void {
    this.ctx.storage.kv.put(RESTORE_PREFIX + userId, restore);
    this.wakeBy(restore.stagedAt + STAGED_RESTORE_MS);
  }

  /**
   * On an `email:` Gate: is this client locked out of the address, and (with `budget`) is the
   * address's budget of failed logins left? A client that logged in here within 30 days is never
   * refused by the budget (null), so strangers spending it cannot keep the owner out.
   */
  loginGate(client: string, budget?: LimitRequest, now = this.now()): LoginGateAnswer {
    const { lockedUntil } = this.lockouts.status(client, now);
    if (!budget || this.knownClients.has(client, now)) return { lockedUntil, budget: null };
    const id = budget.key ? `${budget.name}:${budget.key}` : budget.name;
    return {
      lockedUntil,
      budget: { ...this.buckets.peek(id, budget.rule, now), name: budget.name, rule: budget.rule },
    };
  }

  /** On an `email:` Gate: counts a failed credential check from this client (`budget`: and spends the address's). */
  lockoutFail(
    client: string,
    policy: LockoutPolicy,
    budget?: LimitRequest,
    now = this.now(),
  ): LockoutAnswer & { budget: LimitAnswer | null } {
    const answer = this.lockouts.fail(client, policy, now);
    this.wakeBy(now + 86_400_000);
    const spent = budget && !this.knownClients.has(client, now) ? this.limit(budget, now) : null;
    return { ...answer, budget: spent };
  }

  /**
   * On an `email:` Gate: a success from this client clears its count (`lift`: and its lock);
   * `known`: it logged in, so the address's budget never refuses it for 30 days.
   */
  lockoutReset(client: string, lift = false, known = false, now = this.now()): void {
    this.lockouts.reset(client, lift);
    if (known) {
      this.knownClients.remember(client, now);
      this.wakeBy(now + 86_400_000);
    }
  }

  /**
   * On a `user:` home: whether the account's budget of wrong second-factor answers is left
   * (nothing taken), and for a login challenge whether it is still alive.
   */
  secondFactorGate(
    budget: LimitRequest,
    challenge: string | null,
    now = this.now(),
  ): LimitAnswer & { challengeDead: boolean } {
    const answer = { ...this.buckets.peek(budget.name, budget.rule, now), name: budget.name, rule: budget.rule };
    return {
      ...answer,
      challengeDead: challenge !== null && this.challengeFailures(challenge) >= CHALLENGE_MAX_FAILURES,
    };
  }

  /**
   * On a `user:` home: counts a wrong second-factor answer against the account's budget, and
   * against its login challenge if there is one; returns the budget and the challenge's count.
   */
  secondFactorFailed(
    budget: LimitRequest,
    challenge: { id: string; expiresAt: number } | null,
    now = this.now(),
  ): { limit: LimitAnswer; challengeFailures: number } {
    const limit = this.limit(budget, now);
    if (!challenge) return { limit, challengeFailures: 0 };
    const failures = this.ctx.storage.sql
      .exec<{ failures: number }>(
        `INSERT INTO challenge_failures (challenge, failures, expires_at) VALUES (?, 1, ?)
         ON CONFLICT(challenge) DO UPDATE SET failures = failures + 1 RETURNING failures`,
        challenge.id,
        challenge.expiresAt,
      )
      .one().failures;
    this.wakeBy(challenge.expiresAt);
    return { limit, challengeFailures: failures };
  }

  private challengeFailures(challenge: string): number {
    return (
      this.ctx.storage.sql
        .exec<{ failures: number }>("SELECT failures FROM challenge_failures WHERE challenge = ?", challenge)
        .toArray()[0]?.failures ?? 0
    );
  }

  /** On an `email:` Gate: may one more email of this kind go to the address? (Records it if so.) */
  allowEmail(kind: string, maxPerHour: number, now = this.now()): boolean {
    const allowed = this.quota.allow(kind, maxPerHour, now);
    if (allowed) this.wakeBy(now + 3_600_000);
    return allowed;
  }

  /** On a `user:` Gate: counts a wrong re-authentication in this session; returns the run. */
  reauthFailed(sessionId: string): number {
    return this.ctx.storage.sql
      .exec<{ failures: number }>(
        `INSERT INTO reauth_failures (session_id, failures) VALUES (?, 1)
         ON CONFLICT(session_id) DO UPDATE SET failures = failures + 1 RETURNING failures`,
        sessionId,
      )
      .one().failures;
  }

  /** On a `user:` Gate: a right re-authentication ends the run of wrong ones. */
  reauthSucceeded(sessionId: string): void {
    this.ctx.storage.sql.exec("DELETE FROM reauth_failures WHERE session_id = ?", sessionId);
  }

  /**
   * Each user Gate asks the global one at most once a minute, and always first after it starts:
   * a home just restored to an earlier point applies its staged restore then, before it answers.
   */
  private async globalRotation(now: number): Promise<GlobalRotation> {
    if (this.global && now - this.global.fetchedAt < GLOBAL_CACHE_MS) return this.global.value;
    const stub = this.env.GATE.get(this.env.GATE.idFromName("global"));
    const { restore, ...value } = await stub.readGlobal(this.userId ?? undefined);
    if (restore && this.ctx.storage.kv.get<string>(APPLIED_RESTORE_KEY) !== restore.id) this.applyRestore(restore);
    this.global = { value, fetchedAt: now };
    return value;
  }

  /** The user whose home this is, from the object's name (`user:<id>`); null for other subjects. */
  private get userId(): string | null {
    const name = this.ctx.id.name;
    return name?.startsWith("user:") ? name.slice(5) : null;
  }

  /** Brings a restored home in line with the directory (once per restore). */
  private applyRestore(r: StagedRestore) {
    this.revokeBefore({ beforeSecond: r.cutSecond, keep: null, until: r.revokedUntil });
    if (r.revokedSessionIds.length > 0) this.revokeSessions(r.revokedSessionIds, r.revokedUntil);
    this.setMinTokenVersion(r.minTokenVersion);
    this.keepConnections(r.connectionIds);
    this.forgetProfile();
    this.ctx.storage.kv.put(APPLIED_RESTORE_KEY, r.id);
  }

  /** The per-user half of reconciliation (src/ledger/tend.ts). */
  private async tendLedger(now: number) {
    const config = await loadConfig(this.env);
    await tendLedger(
      {
        ledger: this.ledger,
        runs: this.runs,
        userId: this.ctx.storage.kv.get<string>(OWNER_KEY) ?? null,
        config,
        db: createDb(this.env.DB),
        queue: this.env.SYNC_QUEUE,
        log: createLogger(config.logLevel, { object: "home" }),
      },
      now,
    );
  }

  /** Makes sure an alarm runs no later than `at` (the alarm then plans the next one itself). */
  private wakeBy(at: number) {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  /**
   * Housekeeping (alarms are at-least-once, so every step is idempotent): forgets what can no
   * longer matter, closes sockets whose token expired or predates a global rotation, and plans
   * the next run.
   */
  override async alarm(): Promise<void> {
    const now = this.now();
    this.alarmAt = null;
    this.revocations.purge(now);
    for (const [key, staged] of this.ctx.storage.kv.list<StagedRestore>({ prefix: RESTORE_PREFIX })) {
      if (now - staged.stagedAt >= STAGED_RESTORE_MS) this.ctx.storage.kv.delete(key);
    }
    this.buckets.purge(now);
    this.lockouts.purge(now);
    this.knownClients.purge(now);
    this.tombstones.purge(now);
    this.ctx.storage.sql.exec("DELETE FROM challenge_failures WHERE expires_at <= ?", now);
    this.quota.purge(now);
    this.sockets.endExpired(now);
    if (this.sockets.open > 0) {
      const global = await this.globalRotation(now);
      this.sockets.endWhere("tokens rotated", (s) => s.iatSeconds * 1000 < global.notBefore);
    }
    if (!this.ledger.isEmpty()) await this.tendLedger(now);
    const next = [
      this.ledger.isEmpty() ? null : now + RECONCILE_EVERY_MS,
      this.runs.nextResend(),
      this.revocations.nextPurge(),
      this.buckets.nextPurge(),
      this.lockouts.nextPurge(),
      this.knownClients.nextPurge(),
      this.tombstones.nextPurge(),
      this.quota.nextPurge(),
      this.sockets.nextExpiry(),
      this.sockets.open > 0 ? now + GLOBAL_CACHE_MS : null,
    ].filter((t): t is number => t !== null);
    if (next.length) this.wakeBy(Math.max(now + 1000, Math.min(...next)));
  }
}

/** Headers the Worker uses to hand an authenticated socket to the user's Gate. */
export const SOCKET_HEADERS = {
  session: "X-Ledgerlink-Session",
  version: "X-Ledgerlink-Token-Version",
  issuedAt: "X-Ledgerlink-Token-Iat",
  expiresAt: "X-Ledgerlink-Token-Exp",
} as const;

function socketInfoOf(h: Headers): SocketInfo | null {
  const sessionId = h.get(SOCKET_HEADERS.session);
  const nums = [SOCKET_HEADERS.version, SOCKET_HEADERS.issuedAt, SOCKET_HEADERS.expiresAt].map((k) => Number(h.get(k)));
  if (!sessionId || nums.some((n) => !Number.isFinite(n))) return null;
  const [tokenVersion, iat, exp] = nums as [number, number, number];
  return { sessionId, tokenVersion, iatSeconds: iat, expiresAt: exp * 1000 };
}

/** The stub for one subject's Gate. */
export function gateFor(ns: DurableObjectNamespace<Gate>, subject: string): DurableObjectStub<Gate> {
  return ns.get(ns.idFromName(subject));
}
