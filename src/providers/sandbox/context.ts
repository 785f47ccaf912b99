/** Sandbox options and the resolved per-app state the routes share. */
import type { FaultSettings } from "./scenarios";
import { createTokenSigner, type TokenSigner } from "./tokens";
import type { TimelineSettings } from "./transactions";

/** Everything a test or the Worker can tune; all optional. */
export interface SandboxOptions {
  /**
   * HMAC-SHA256 key that signs codes and tokens. Give every isolate the same value so tokens
   * verify anywhere. The default is a fixed development key: the sandbox is never mounted in
   * production and its data is fake.
   */
  secret?: string;
  /** When set, the only client credentials the token endpoint accepts; otherwise any non-empty pair. */
  clientId?: string;
  clientSecret?: string;
  /** The sandbox clock: token lifetimes and which transactions exist. Default: real time. */
  now?: () => Date;
  /** Access-token lifetime (Schwab: 1800 s). */
  accessTokenTtlSeconds?: number;
  /** Authorization-code lifetime. */
  codeTtlSeconds?: number;
  /** `slow`: how long trader calls take (default 30 s; the wait ends early if the client aborts). */
  slowDelayMs?: number;
  /** `flaky`: how many trader calls per access token fail with 500 first (default 2). */
  flakyFailures?: number;
  /** `rate_limited`: the Retry-After value (default 2). */
  retryAfterSeconds?: number;
  /** A new transaction appears in each account this often after the login (default 1 day). */
  newTransactionIntervalMs?: number;
  /** `pending_to_posted`: how long after the login the pending trade posts (default 1 day). */
  pendingPostDelayMs?: number;
}

/** A size-capped map; the oldest entries go first (insertion order) so memory stays bounded. */
export class BoundedMap<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }
}

/** Resolved options plus the signer and the two per-isolate memories. */
export interface SandboxContext extends FaultSettings, TimelineSettings {
  signer: TokenSigner;
  now: () => number;
  clientId: string | null;
  clientSecret: string | null;
  accessTokenTtlSeconds: number;
  codeTtlSeconds: number;
  /**
   * Codes already exchanged. Stateless codes cannot be single-use across isolates; this makes a
   * replay fail at least within one isolate (RFC 6749 §4.1.2 asks for single use).
   */
  usedCodes: BoundedMap<true>;
  /** Trader calls per access token, for `flaky`. Per isolate: another isolate counts afresh. */
  traderCalls: BoundedMap<number>;
}

const DAY = 86_400_000;

/** Fills in defaults and validates the numbers. */
export function resolveSandbox(options: SandboxOptions = {}): SandboxContext {
  const clock = options.now ?? (() => new Date());
  const ctx: SandboxContext = {
    signer: createTokenSigner(options.secret ?? "ledgerlink-sandbox-development-only"),
    now: () => clock().getTime(),
    clientId: options.clientId ?? null,
    clientSecret: options.clientSecret ?? null,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 1800,
    codeTtlSeconds: options.codeTtlSeconds ?? 600,
    slowDelayMs: options.slowDelayMs ?? 30_000,
    flakyFailures: options.flakyFailures ?? 2,
    retryAfterSeconds: options.retryAfterSeconds ?? 2,
    newTransactionIntervalMs: options.newTransactionIntervalMs ?? DAY,
    pendingPostDelayMs: options.pendingPostDelayMs ?? DAY,
    usedCodes: new BoundedMap(10_000),
    traderCalls: new BoundedMap(10_000),
  };
  for (const key of ["accessTokenTtlSeconds", "codeTtlSeconds", "newTransactionIntervalMs"] as const) {
    if (!(ctx[key] > 0)) throw new RangeError(`sandbox option ${key} must be positive`);
  }
  for (const key of ["slowDelayMs", "flakyFailures", "retryAfterSeconds", "pendingPostDelayMs"] as const) {
    if (!(ctx[key] >= 0)) throw new RangeError(`sandbox option ${key} must not be negative`);
  }
  return ctx;
}
