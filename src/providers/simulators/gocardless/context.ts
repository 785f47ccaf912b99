/** GoCardless simulator options, resolved state and the signed claims of its ids and tokens. */
import { createSimSigner, type SimSigner } from "../shared/signer";
import { BoundedMap, DAY, RollingLog } from "../shared/util";

/** Every scenario a requisition may pick via `ledgerlink_scenario`. */
export const GOCARDLESS_SCENARIOS = [
  "default",
  "quota",
  "short_consent",
  "missing_ids",
  "expired",
  "rate_limited",
  "drift",
  "consent_rejected",
] as const;
export type GoCardlessScenario = (typeof GOCARDLESS_SCENARIOS)[number];
export const isGoCardlessScenario = (v: string): v is GoCardlessScenario =>
  (GOCARDLESS_SCENARIOS as readonly string[]).includes(v);

/** Everything a test or the Worker can tune; all optional. */
export interface GoCardlessSimulatorOptions {
  /** HMAC key for ids and tokens; give every isolate the same one. */
  secret?: string;
  /** The simulator clock (default: real time). */
  now?: () => Date;
  /** When set, the only app credentials `/token/new/` accepts; otherwise any non-empty pair. */
  secretId?: string;
  secretKey?: string;
  /** Access and refresh token lifetimes (GoCardless: 86,400 s and 2,592,000 s). */
  accessTtlSeconds?: number;
  refreshTtlSeconds?: number;
  /** `/token/new/` mints per hour per secret id (GoCardless: 100). */
  mintLimitPerHour?: number;
  /** Successful calls per account per scope per rolling 24 h (GoCardless: 4; `quota`: 1). */
  accountDailyLimit?: number;
  /** `/accounts/*` calls per minute per app (GoCardless: 100). */
  burstLimitPerMinute?: number;
  /** `rate_limited`: the seconds in "Please try again in N seconds" (default 3). */
  retryAfterSeconds?: number;
  /** How long an event stays pending before it books (default a day). */
  postDelayMs?: number;
  /** History before the link (default 90 days). */
  historyDays?: number;
  /**
   * A requisition this isolate never saw consented (a restarted dev server) counts as linked at
   * its creation once it is older than this (default 10 minutes), so existing links keep working.
   */
  linkTimeoutMs?: number;
  /** Simulated latency per call (default 0); an aborted request is answered at once. */
  latencyMs?: number;
}

/** Agreement id claims (short keys keep the ids short). */
export interface AgreementClaims {
  i: string;
  h: number;
  a: number;
  s: string[];
  c: number;
  n: string;
}

/** Requisition id claims. */
export interface RequisitionClaims {
  i: string;
  g: string | null;
  h: number;
  a: number;
  s: string[];
  r: string;
  f: string;
  l: string;
  x: GoCardlessScenario;
  u: string | null;
  c: number;
  n: string;
  /** The agreement's nonce (its acceptance is remembered by it), or null. */
  m: string | null;
}

/** Account id claims: the login (seed), its index, the data anchor and when access ends. */
export interface AccountClaims {
  i: string;
  l: string;
  k: number;
  x: GoCardlessScenario;
  h: number;
  s: string[];
  c: number;
  e: number;
  q: string;
}

/** App token claims. */
export interface AppTokenClaims {
  token_type: "access" | "refresh";
  exp: number;
  jti: string;
  company: string;
}

/** Resolved options plus per-isolate memories. */
export interface GoCardlessContext {
  signer: SimSigner;
  now: () => number;
  secretId: string | null;
  secretKey: string | null;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  mintLimitPerHour: number;
  accountDailyLimit: number;
  burstLimitPerMinute: number;
  retryAfterSeconds: number;
  postDelayMs: number;
  historyDays: number;
  linkTimeoutMs: number;
  latencyMs: number;
  /** Consent visits: requisition nonce → when (single-use links, CR → LN). */
  visits: BoundedMap<number>;
  /** Agreement nonce → when it was accepted and for how long (`short_consent` grants one day). */
  accepted: BoundedMap<{ at: number; accessDays: number }>;
  /** References already used (GoCardless refuses a reused reference). */
  references: BoundedMap<true>;
  /** Requisition nonces deleted (`DELETE /requisitions/{id}/`): it and its accounts answer 404 after. */
  deleted: BoundedMap<true>;
  /** Token mints, company calls per minute, account successes per scope. */
  mints: RollingLog;
  burst: RollingLog;
  successes: RollingLog;
}

/** Fills in defaults and validates the numbers. */
export function resolveGoCardless(o: GoCardlessSimulatorOptions = {}): GoCardlessContext {
  const clock = o.now ?? (() => new Date());
  const ctx: GoCardlessContext = {
    signer: createSimSigner(`gocardless|${o.secret ?? "ledgerlink-simulator-development-only"}`),
    now: () => clock().getTime(),
    secretId: o.secretId ?? null,
    secretKey: o.secretKey ?? null,
    accessTtlSeconds: o.accessTtlSeconds ?? 86_400,
    refreshTtlSeconds: o.refreshTtlSeconds ?? 2_592_000,
    mintLimitPerHour: o.mintLimitPerHour ?? 100,
    accountDailyLimit: o.accountDailyLimit ?? 4,
    burstLimitPerMinute: o.burstLimitPerMinute ?? 100,
    retryAfterSeconds: o.retryAfterSeconds ?? 3,
    postDelayMs: o.postDelayMs ?? DAY,
    historyDays: o.historyDays ?? 90,
    linkTimeoutMs: o.linkTimeoutMs ?? 600_000,
    latencyMs: o.latencyMs ?? 0,
    visits: new BoundedMap(10_000),
    accepted: new BoundedMap(10_000),
    references: new BoundedMap(10_000),
    deleted: new BoundedMap(10_000),
    mints: new RollingLog(),
    burst: new RollingLog(),
    successes: new RollingLog(),
  };
  for (const key of [
    "accessTtlSeconds",
    "refreshTtlSeconds",
    "mintLimitPerHour",
    "accountDailyLimit",
    "burstLimitPerMinute",
    "historyDays",
  ] as const) {
    if (!(ctx[key] > 0)) throw new RangeError(`gocardless simulator option ${key} must be positive`);
  }
  for (const key of ["retryAfterSeconds", "postDelayMs", "linkTimeoutMs", "latencyMs"] as const) {
    if (!(ctx[key] >= 0)) throw new RangeError(`gocardless simulator option ${key} must not be negative`);
  }
  return ctx;
}

/** A GoCardless error body `{summary, detail, status_code, type?}`. */
export const gcError = (status: number, summary: string, detail: string, type?: string) => ({
  summary,
  detail,
  status_code: status,
  ...(type ? { type } : {}),
});
