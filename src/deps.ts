/**
 * The one place dependencies are built, for routes and jobs alike: the database, users' homes,
 * the Limiter, the mailer, the providers, the queues, and the seams tests replace (clock, randomness, password
 * hasher, sleep). Services take the slice they need (`Pick<Deps, ...>`).
 */
import { type Clock, clockFor } from "./clock";
import type { Config } from "./config";
import { type PasswordHasher, scryptHasher } from "./crypto/password";
import { createDb, type Db } from "./db/client";
import { createMailer, type Mailer } from "./email/mailer";
import type { EmailDeadLetterMessage, EmailQueueMessage } from "./email/messages";
import { limiterEmailQuota } from "./email/quota";
import { createEmailSender, type EmailSender, type SendEmailBinding } from "./email/sender";
import { withTestRoutes } from "./email/test-transport";
import { createHomeClient, type HomeClient } from "./home/client";
import type { Home } from "./home/home";
import type { DeadLetterMessage, HomeReportMessage, SweepMessage, SyncMessage } from "./home/messages";
import { createLimiterClient, type LimiterClient } from "./limiter/client";
import type { Limiter } from "./limiter/limiter";
import type { Logger } from "./logger";
import { createMetrics, type Metrics } from "./metrics";
import { createProviderRegistry, type ProviderRegistry } from "./providers/registry";
import { storedAppTokens } from "./services/providers/app-tokens";
import { takeOutboundBudget } from "./services/providers/outbound";
import type { RuleName } from "./services/rate-rules";
import { newTrace, type Trace } from "./trace";

export interface Deps {
  config: Config;
  db: Db;
  logger: Logger;
  /** Now, from the one clock (src/clock.ts). */
  now: Clock;
  /** [0, 1): backoff jitter and the schedule's spread. */
  random: () => number;
  /** Waits between looks while another caller holds a lease. */
  sleep: (ms: number) => Promise<void>;
  passwords: PasswordHasher;
  /** Users' homes: revocations, token versions, per-user limits, live events, the ledger. */
  homes: HomeClient<RuleName>;
  /** The Limiter: per-client and per-address limits, lockouts, email quotas, the global rotation. */
  limiter: LimiterClient<RuleName>;
  /** Email after the response, capped per address and kind, through the email queue. */
  mailer: Mailer;
  /** The transport the email queue's consumer delivers with (outbox, Resend or Cloudflare). */
  emailSender: EmailSender;
  providers: ProviderRegistry;
  /** The sync queue: runs, and the scheduler's sweep messages. */
  queue: Pick<Queue<SyncMessage | SweepMessage | HomeReportMessage>, "send" | "sendBatch">;
  deadLetters: Pick<Queue<DeadLetterMessage>, "send">;
  /** The email queue (`ledgerlink-email`) and its dead-letter queue. */
  emailQueue: Pick<Queue<EmailQueueMessage>, "send" | "sendBatch">;
  emailDeadLetters: Pick<Queue<EmailDeadLetterMessage>, "send">;
  /** Runs work after the response or job (`ctx.waitUntil`): audit of read-only events, email. */
  defer: (work: Promise<unknown>) => void;
  /** The W3C trace this work belongs to (src/trace.ts): the request's, the tick's or the message's. */
  trace: Trace;
  /** Data points for Analytics Engine (src/metrics.ts). */
  metrics: Metrics;
}

export interface DepsOptions {
  logger: Logger;
  /** Runs work after the response or job (`ctx.waitUntil`). */
  defer: (work: Promise<unknown>) => void;
  /** The trace to continue (default: a new one). */
  trace?: Trace;
  /** Replacements, for tests: any member. */
  overrides?: Partial<Deps>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// One hasher per config: its dummy hash (for unknown emails) is computed once per isolate.
const hashers = new WeakMap<Config, PasswordHasher>();
function hasherFor(config: Config): PasswordHasher {
  let h = hashers.get(config);
  if (!h) {
    h = scryptHasher(config.passwordHash);
    hashers.set(config, h);
  }
  return h;
}

/** The optional `send_email` binding (declared in wrangler.toml only by deployments that use it). */
const emailBindingOf = (env: Env) => (env as Env & { EMAIL?: SendEmailBinding }).EMAIL;

type ObjectBindings = { HOME: DurableObjectNamespace<Home>; LIMITER: DurableObjectNamespace<Limiter> };

/** The facades of the two object kinds, from the config (they import none of it themselves). */
function objectClients(env: ObjectBindings, config: Config, now: Clock) {
  return {
    homes: createHomeClient(env.HOME, {
      rules: config.rateLimits,
      secondFactorRule: "mfa_user",
      // A revoked session's access token could be valid until its exp: keep the revocation that
      // long, plus a minute of clock skew.
      revocationTtlMs: (config.tokens.accessTtlSeconds + 60) * 1000,
      now,
    }),
    limiter: createLimiterClient(env.LIMITER, {
      rules: config.rateLimits,
      lockout: { threshold: config.lockout.threshold, durationMs: config.lockout.durationSeconds * 1000 },
    }),
  };
}

/** What does not change between requests of one isolate: built once per config and binding. */
interface Shared extends ReturnType<typeof objectClients> {
  bindings: ObjectBindings;
  now: Clock;
}
const shared = new WeakMap<Config, Shared>();
function sharedFor(env: Env, config: Config): Shared {
  let s = shared.get(config);
  if (!s || s.bindings.HOME !== env.HOME || s.bindings.LIMITER !== env.LIMITER) {
    const now = clockFor(config.environment);
    s = { bindings: { HOME: env.HOME, LIMITER: env.LIMITER }, now, ...objectClients(env, config, now) };
    shared.set(config, s);
  }
  return s;
}

/**
 * The mailer, the email transport and the providers are built on first use: most requests (every
 * read) need none, and building them was a measurable share of a read's cost (bench/README.md).
 */
export function createDeps(env: Env, config: Config, options: DepsOptions): Deps {
  const o = options.overrides ?? {};
  const db = o.db ?? createDb(env.DB);
  const logger = o.logger ?? options.logger;
  const base = sharedFor(env, config);
  const now = o.now ?? base.now;
  const clients = o.now ? objectClients(env, config, now) : base;
  const homes = o.homes ?? clients.homes;
  const limiter = o.limiter ?? clients.limiter;
  const defer = o.defer ?? options.defer;
  const wait = o.sleep ?? sleep;
  let mailer = o.mailer;
  let emailSender = o.emailSender;
  let providers = o.providers;
  const emailQueue = o.emailQueue ?? env.EMAIL_QUEUE;
  const trace = o.trace ?? options.trace ?? newTrace();
  const metrics = o.metrics ?? createMetrics((env as Partial<Env>).METRICS, logger);
  return {
    config,
    db,
    logger,
    now,
    random: o.random ?? Math.random,
    sleep: wait,
    passwords: o.passwords ?? hasherFor(config),
    homes,
    limiter,
    get mailer() {
      mailer ??= createMailer({
        quota: limiterEmailQuota(limiter),
        keyring: config.encryption.keyring,
        db,
        emailQueue,
        logger,
        defer,
        sleep: wait,
        now,
        traceId: trace.traceId,
      });
      return mailer;
    },
    get emailSender() {
      emailSender ??= withTestRoutes(config.environment, createEmailSender(config, db, now, emailBindingOf(env)));
      return emailSender;
    },
    get providers() {
      providers ??= createProviderRegistry(config, {
        logger,
        onCall: (call) => metrics.providerCall(call),
        throttle: (slug) => takeOutboundBudget({ limiter, sleep: wait, logger }, slug),
        appTokens: (slug, gc, secrets) =>
          storedAppTokens({ db, now, sleep: wait, logger, keyring: config.encryption.keyring }, slug, gc, secrets),
      });
      return providers;
    },
    queue: o.queue ?? env.SYNC_QUEUE,
    deadLetters: o.deadLetters ?? env.SYNC_DLQ,
    emailQueue,
    emailDeadLetters: o.emailDeadLetters ?? env.EMAIL_DLQ,
    defer,
    trace,
    metrics,
  };
}

/**
 * The same dependencies for one piece of work with its own trace (a queue message): the trace and
 * a logger that puts its `trace_id` on every line. Everything else is shared (and still lazy).
 */
export function withTrace<D extends Pick<Deps, "trace" | "logger">>(deps: D, traceId: string | undefined): D {
  const trace = newTrace(traceId);
  const traced = Object.create(deps) as D;
  Object.defineProperties(traced, {
    trace: { value: trace, enumerable: true },
    logger: { value: deps.logger.with({ trace_id: trace.traceId }), enumerable: true },
  });
  return traced;
}
