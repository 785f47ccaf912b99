/** Alpaca simulator options, resolved state and the signed claims of its codes and tokens. */
import { createSimSigner, type SimSigner } from "../shared/signer";
import { BoundedMap, DAY } from "../shared/util";

/** Every scenario the authorize URL may pick via `?scenario=`. */
export const ALPACA_SCENARIOS = ["default", "revoked", "drift"] as const;
export type AlpacaScenario = (typeof ALPACA_SCENARIOS)[number];
export const isAlpacaScenario = (v: string): v is AlpacaScenario => (ALPACA_SCENARIOS as readonly string[]).includes(v);

/** Which trading environments a login's token works on. */
export type AlpacaSimEnv = "live" | "paper";

/** Everything a test or the Worker can tune; all optional. */
export interface AlpacaSimulatorOptions {
  /** HMAC key for codes and tokens; give every isolate the same one. */
  secret?: string;
  now?: () => Date;
  /** When set, the only client credentials the token endpoint accepts; otherwise any non-empty pair. */
  clientId?: string;
  clientSecret?: string;
  /** Requests per minute per token (Alpaca: 200). */
  rateLimitPerMinute?: number;
  /** `revoked`: the token stops working this long after the login (default 30 minutes, like Schwab's sandbox). */
  revokeAfterMs?: number;
  /** Activities before the login (default 250, over 360 days, so paging by 100 shows). */
  historyActivities?: number;
  /** A new activity appears this often after the login (default a day). */
  newActivityIntervalMs?: number;
  codeTtlSeconds?: number;
  latencyMs?: number;
}

/** What a login is: shared by its code and token. */
export interface AlpacaGrant {
  x: AlpacaScenario;
  l: string;
  envs: AlpacaSimEnv[];
  /** Login time, epoch ms: anchors the activity timeline and `revoked`. */
  at: number;
  cid: string;
}

export interface CodeClaims extends AlpacaGrant {
  exp: number;
  n: string;
  r: string;
}

export interface TokenClaims extends AlpacaGrant {
  n: string;
}

/** Resolved options plus per-isolate memories. */
export interface AlpacaContext {
  signer: SimSigner;
  now: () => number;
  clientId: string | null;
  clientSecret: string | null;
  rateLimitPerMinute: number;
  revokeAfterMs: number;
  historyActivities: number;
  newActivityIntervalMs: number;
  codeTtlSeconds: number;
  latencyMs: number;
  usedCodes: BoundedMap<true>;
  /** Requests per token and minute. */
  requests: BoundedMap<number>;
}

/** Fills in defaults and validates the numbers. */
export function resolveAlpaca(o: AlpacaSimulatorOptions = {}): AlpacaContext {
  const clock = o.now ?? (() => new Date());
  const ctx: AlpacaContext = {
    signer: createSimSigner(`alpaca|${o.secret ?? "ledgerlink-simulator-development-only"}`),
    now: () => clock().getTime(),
    clientId: o.clientId ?? null,
    clientSecret: o.clientSecret ?? null,
    rateLimitPerMinute: o.rateLimitPerMinute ?? 200,
    revokeAfterMs: o.revokeAfterMs ?? 1_800_000,
    historyActivities: o.historyActivities ?? 250,
    newActivityIntervalMs: o.newActivityIntervalMs ?? DAY,
    codeTtlSeconds: o.codeTtlSeconds ?? 600,
    latencyMs: o.latencyMs ?? 0,
    usedCodes: new BoundedMap(10_000),
    requests: new BoundedMap(10_000),
  };
  for (const key of ["rateLimitPerMinute", "newActivityIntervalMs", "codeTtlSeconds"] as const) {
    if (!(ctx[key] > 0)) throw new RangeError(`alpaca simulator option ${key} must be positive`);
  }
  for (const key of ["revokeAfterMs", "historyActivities", "latencyMs"] as const) {
    if (!(ctx[key] >= 0)) throw new RangeError(`alpaca simulator option ${key} must not be negative`);
  }
  return ctx;
}

/** Alpaca's error body: `{code, message}`, the code's first three digits the HTTP status. */
export const alpacaError = (code: number, message: string) => ({ code, message });
