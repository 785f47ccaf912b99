import { DurableObject } from "cloudflare:workers";
import { nowMs } from "../clock";
import type { LimitAnswer, LimitRequest } from "../durable/bucket";
import { BucketStore } from "../durable/bucket-store";
import { migrate } from "../durable/migrate";
import { effectiveEnvironment } from "../environment";
import { EmailQuota } from "./email-quota";
import { type GlobalRotation, GlobalState, type StagedRestore } from "./global";
import { KnownClients } from "./known-clients";
import { type LockoutAnswer, type LockoutPolicy, LockoutStore } from "./lockouts";
import { LIMITER_SCHEMA } from "./steps";

/** A login's lock state at an address, and its per-address budget of failures (null: a known client). */
export interface LoginGateAnswer {
  lockedUntil: number | null;
  budget: LimitAnswer | null;
}

/**
 * Everything the Limiter does, as one union (the facade in ./client.ts builds them). Each subject
 * kind uses its own: a client (`ip:<key>`) takes from buckets; an address (`email:<sha256>`)
 * also holds lockouts, the budget of failed logins, known clients and email quotas; `global`
 * holds the global rotation and staged restores.
 */
export type LimiterCommand =
  | { type: "take"; limit: LimitRequest }
  | { type: "loginGate"; client: string; budget: LimitRequest | null }
  | { type: "loginFailed"; client: string; policy: LockoutPolicy; budget: LimitRequest | null }
  | { type: "loginSucceeded"; client: string; lift: boolean; known: boolean }
  | { type: "allowEmail"; kind: string; maxPerHour: number }
  | { type: "rotateGlobal" }
  | { type: "readGlobal"; userId: string | null }
  | { type: "stageRestore"; userId: string; restore: StagedRestore }
  | { type: "unstageRestore"; userId: string; id: string };

/** What each command answers. */
export interface LimiterResults {
  take: LimitAnswer;
  loginGate: LoginGateAnswer;
  loginFailed: LockoutAnswer & { budget: LimitAnswer | null };
  loginSucceeded: null;
  allowEmail: boolean;
  rotateGlobal: GlobalRotation;
  readGlobal: GlobalRotation & { restore: StagedRestore | null };
  stageRestore: null;
  unstageRestore: null;
}

const DAY_MS = 86_400_000;

/**
 * The Limiter: one Durable Object per client, address and `global`, the single owner of their
 * counters (docs/design.md "The Limiter"). Single-threaded, so every decision is exact; state
 * that must outlive eviction is in its SQLite. A command runs in one `transactionSync`.
 */
export class Limiter extends DurableObject<Env> {
  private buckets!: BucketStore;
  private lockouts!: LockoutStore;
  private quota!: EmailQuota;
  private knownClients!: KnownClients;
  private global!: GlobalState;
  private alarmAt: number | null = null;
  private readonly environment: string;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.environment = effectiveEnvironment(env as unknown as Record<string, unknown>);
    ctx.blockConcurrencyWhile(async () => {
      const { storage } = ctx;
      migrate(storage, LIMITER_SCHEMA);
      this.buckets = new BucketStore(storage.sql);
      this.lockouts = new LockoutStore(storage.sql);
      this.quota = new EmailQuota(storage.sql);
      this.knownClients = new KnownClients(storage.sql);
      this.global = new GlobalState(storage.kv);
      this.alarmAt = await storage.getAlarm();
    });
  }

  /** Liveness probe used by /health/ready. */
  ping(): { ok: true } {
    return { ok: true };
  }

  /** Runs one command in one transaction. */
  command<C extends LimiterCommand>(command: C): LimiterResults[C["type"]] {
    return this.ctx.storage.transactionSync(() => this.handle(command)) as LimiterResults[C["type"]];
  }

  private handle(c: LimiterCommand): LimiterResults[LimiterCommand["type"]] {
    const now = nowMs(this.environment);
    switch (c.type) {
      case "take": {
        const answer = this.buckets.limit(c.limit, now);
        this.wakeBy(now + answer.resetSeconds * 1000);
        return answer;
      }
      case "loginGate": {
        const { lockedUntil } = this.lockouts.status(c.client, now);
        // A client that logged in here within 30 days is never refused by the address's budget,
        // so strangers spending it cannot keep the owner out.
        if (!c.budget || this.knownClients.has(c.client, now)) return { lockedUntil, budget: null };
        return { lockedUntil, budget: this.buckets.peekLimit(c.budget, now) };
      }
      case "loginFailed": {
        const answer = this.lockouts.fail(c.client, c.policy, now);
        this.wakeBy(now + DAY_MS);
        const spent = c.budget && !this.knownClients.has(c.client, now) ? this.buckets.limit(c.budget, now) : null;
        return { ...answer, budget: spent };
      }
      case "loginSucceeded":
        this.lockouts.reset(c.client, c.lift);
        if (c.known) {
          this.knownClients.remember(c.client, now);
          this.wakeBy(now + DAY_MS);
        }
        return null;
      case "allowEmail": {
        const allowed = this.quota.allow(c.kind, c.maxPerHour, now);
        if (allowed) this.wakeBy(now + 3_600_000);
        return allowed;
      }
      case "rotateGlobal":
        return this.global.rotate(now);
      case "readGlobal":
        return { ...this.global.rotation(), restore: c.userId ? this.global.staged(c.userId, now) : null };
      case "stageRestore":
        this.global.stage(c.userId, c.restore);
        this.wakeBy(now + DAY_MS);
        return null;
      case "unstageRestore":
        this.global.unstage(c.userId, c.id);
        return null;
    }
  }

  /** Makes sure an alarm runs no later than `at` (the alarm then plans the next one itself). */
  private wakeBy(at: number) {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  /** Forgets what can no longer matter (alarms are at-least-once; every step is idempotent). */
  override async alarm(): Promise<void> {
    const now = nowMs(this.environment);
    this.alarmAt = null;
    this.buckets.purge(now);
    this.lockouts.purge(now);
    this.knownClients.purge(now);
    this.quota.purge(now);
    this.global.purge(now);
    const next = [
      this.buckets.nextPurge(),
      this.lockouts.nextPurge(),
      this.knownClients.nextPurge(),
      this.quota.nextPurge(),
      this.global.nextPurge(),
    ].filter((t): t is number => t !== null);
    if (next.length) this.wakeBy(Math.max(now + 1000, Math.min(...next)));
  }
}
