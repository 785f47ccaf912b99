/** SimpleFIN simulator options, resolved state and the signed claims of its codes and credentials. */
import { createSimSigner, type SimSigner } from "../shared/signer";
import { BoundedMap, DAY } from "../shared/util";

/** Every scenario a setup token may carry. */
export const SIMPLEFIN_SCENARIOS = ["default", "partial_errors", "quota", "drift", "holdings"] as const;
export type SimpleFinScenario = (typeof SIMPLEFIN_SCENARIOS)[number];
export const isSimpleFinScenario = (v: string): v is SimpleFinScenario =>
  (SIMPLEFIN_SCENARIOS as readonly string[]).includes(v);

/** Everything a test or the Worker can tune; all optional. */
export interface SimpleFinSimulatorOptions {
  /** HMAC key for claim codes and access credentials; give every isolate the same one. */
  secret?: string;
  /** The simulator clock (default: real time). */
  now?: () => Date;
  /** Requests per access URL per UTC day before a quota warning (Bridge, second-hand: 48; `quota`: 3). */
  quotaWarnAfter?: number;
  /** Requests per day after which the access URL is disabled (→ 403 for good; 96; `quota`: 6). */
  quotaDisableAfter?: number;
  /** How long an event stays pending before it posts (default a day). */
  postDelayMs?: number;
  /** History before the claim (default 120 days, so 90-day chunking shows). */
  historyDays?: number;
  /** Window when `start-date` is absent (default 30 days) **[uncertain]** what the Bridge does. */
  defaultWindowDays?: number;
  /** Simulated latency per call (default 0); an aborted request is answered at once. */
  latencyMs?: number;
}

/** Claim code claims. */
export interface ClaimClaims {
  x: SimpleFinScenario;
  l: string;
  c: number;
  n: string;
}

/** Access credential claims (the access URL's password). */
export interface AccessClaims {
  x: SimpleFinScenario;
  l: string;
  /** Claimed at: the data timeline's anchor. */
  c: number;
  n: string;
}

/** Resolved options plus per-isolate memories. */
export interface SimpleFinContext {
  signer: SimSigner;
  now: () => number;
  quotaWarnAfter: number;
  quotaDisableAfter: number;
  postDelayMs: number;
  historyDays: number;
  defaultWindowDays: number;
  latencyMs: number;
  /** Claim codes already used (a setup token works once). */
  claimed: BoundedMap<true>;
  /** Requests per access credential and UTC day. */
  requests: BoundedMap<number>;
  /** Access credentials the quota disabled. */
  disabled: BoundedMap<true>;
}

/** The signer of a secret (shared by the simulator and the setup-token issuer). */
export const simpleFinSigner = (secret: string | undefined) =>
  createSimSigner(`simplefin|${secret ?? "ledgerlink-simulator-development-only"}`);

/** Fills in defaults and validates the numbers. */
export function resolveSimpleFin(o: SimpleFinSimulatorOptions = {}): SimpleFinContext {
  const clock = o.now ?? (() => new Date());
  const ctx: SimpleFinContext = {
    signer: simpleFinSigner(o.secret),
    now: () => clock().getTime(),
    quotaWarnAfter: o.quotaWarnAfter ?? 48,
    quotaDisableAfter: o.quotaDisableAfter ?? 96,
    postDelayMs: o.postDelayMs ?? DAY,
    historyDays: o.historyDays ?? 120,
    defaultWindowDays: o.defaultWindowDays ?? 30,
    latencyMs: o.latencyMs ?? 0,
    claimed: new BoundedMap(10_000),
    requests: new BoundedMap(10_000),
    disabled: new BoundedMap(10_000),
  };
  for (const key of ["quotaWarnAfter", "quotaDisableAfter", "historyDays", "defaultWindowDays"] as const) {
    if (!(ctx[key] > 0)) throw new RangeError(`simplefin simulator option ${key} must be positive`);
  }
  for (const key of ["postDelayMs", "latencyMs"] as const) {
    if (!(ctx[key] >= 0)) throw new RangeError(`simplefin simulator option ${key} must not be negative`);
  }
  return ctx;
}
