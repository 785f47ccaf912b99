/**
 * Metrics in Workers Analytics Engine (binding `METRICS`; the layout of every kind is
 * ops/analytics/contract.json and docs/operations.md "Metrics"): one data point per event,
 * `index1` and `blob1` the kind. `writeDataPoint` is not awaited: the runtime sends it in the
 * background. Where no dataset is bound (local runs, tests) the same points are logged at debug.
 * No personal data: no ids, addresses, emails or amounts; routes are patterns, not paths.
 */
import type { Logger } from "./logger";

/** The part of the binding this writes to. */
export type MetricsDataset = Pick<AnalyticsEngineDataset, "writeDataPoint">;

export type StatusClass = "2xx" | "3xx" | "4xx" | "5xx" | "429" | "none";

/** A status's class; 429 is its own (rate limits are watched apart). */
export function statusClass(status: number | null | undefined): StatusClass {
  if (status === null || status === undefined || status === 0) return "none";
  if (status === 429) return "429";
  if (status >= 500) return "5xx";
  if (status >= 400) return "4xx";
  if (status >= 300) return "3xx";
  return "2xx";
}

export interface SyncPoint {
  provider: string;
  outcome: "succeeded" | "failed" | "retry" | "deferred" | "dead_letter" | "skipped";
  statusClass: StatusClass;
  trigger: string;
  durationMs: number;
  rowsWritten: number;
  attempt: number;
}

export interface ProviderCallPoint {
  provider: string;
  operation: string;
  statusClass: StatusClass;
  outcome: "ok" | "error" | "throttled";
  durationMs: number;
  httpStatus: number | null;
}

export interface AuthPoint {
  action: "login" | "mfa_verify" | "refresh" | "reauth";
  outcome: "success" | "failure" | "locked" | "denied" | "unavailable";
  /** The stable error code of a refusal ("" on success). */
  reason: string;
}

export interface RateLimitPoint {
  rule: string;
  keyKind: "ip" | "email" | "user" | "session" | "account" | "provider";
}

export interface RequestPoint {
  method: string;
  /** The matched route's pattern (`/api/v1/accounts/:id`), never the path itself. */
  route: string;
  status: number;
  durationMs: number;
}

export interface EmailPoint {
  emailKind: string;
  outcome: "sent" | "retry" | "dead_letter";
  attempts: number;
}

export interface DeadLetterPoint {
  queue: "sync" | "email";
  /** `consumer` (forwarded after the last attempt) or `queues` (Queues moved it: a crashing consumer). */
  source: string;
  errorCode: string;
}

export interface Metrics {
  sync(p: SyncPoint): void;
  providerCall(p: ProviderCallPoint): void;
  auth(p: AuthPoint): void;
  rateLimit(p: RateLimitPoint): void;
  request(p: RequestPoint): void;
  email(p: EmailPoint): void;
  deadLetter(p: DeadLetterPoint): void;
}

/** Analytics Engine keeps blobs to 16 KB; ours are short, and a runaway one is cut. */
const blob = (v: string) => v.slice(0, 256);

/** Writes to the dataset, or logs at debug where none is bound. Never throws. */
export function createMetrics(dataset: MetricsDataset | undefined, logger: Logger): Metrics {
  const write = (kind: string, blobs: string[], doubles: number[]) => {
    const point = { indexes: [kind], blobs: [kind, ...blobs].map(blob), doubles };
    if (!dataset) {
      logger.debug("metric", { metric: kind, blobs: point.blobs, doubles });
      return;
    }
    try {
      dataset.writeDataPoint(point);
    } catch (err) {
      // A metric is never worth failing the work it describes.
      logger.warn("metric not written", { metric: kind, error: String(err) });
    }
  };
  return {
    sync: (p) =>
      write("sync", [p.provider, p.outcome, p.statusClass, p.trigger], [p.durationMs, p.rowsWritten, p.attempt]),
    providerCall: (p) =>
      write("provider_call", [p.provider, p.operation, p.statusClass, p.outcome], [p.durationMs, p.httpStatus ?? 0]),
    auth: (p) => write("auth", [p.action, p.outcome, p.reason], [1]),
    rateLimit: (p) => write("rate_limit", [p.rule, p.keyKind], [1]),
    request: (p) => write("request", [p.method, p.route, statusClass(p.status)], [p.durationMs, p.status]),
    email: (p) => write("email", [p.emailKind, p.outcome], [p.attempts]),
    deadLetter: (p) => write("dead_letter", [p.queue, p.source, p.errorCode], [1]),
  };
}
