import type { Location } from "../db/schema";
import type { Deps } from "../deps";

/** Who made the request, for sessions and the audit trail. Built by the HTTP layer. */
export interface RequestMeta {
  requestId: string;
  /** The request's W3C trace (src/trace.ts). */
  traceId: string;
  method: string;
  path: string;
  ip: string | null;
  /** The client's key for limits and lockouts: its IPv4 address or IPv6 /64. */
  clientKey: string;
  userAgent: string | null;
  location: Location | null;
}

/** What identity services depend on (a slice of src/deps.ts). */
export type ServiceDeps = Pick<
  Deps,
  "db" | "config" | "mailer" | "logger" | "homes" | "limiter" | "now" | "passwords" | "defer" | "metrics" | "providers"
>;

/** Where a job's audit row comes from: no request, but the trace of the work (a sync's run). */
export interface JobMeta {
  traceId: string;
}

/** The origin of work outside a request (cron, queue consumers): its deps' trace. */
export const jobMeta = (deps: Pick<Deps, "trace">): JobMeta => ({ traceId: deps.trace.traceId });

/** The audit columns that describe the request, or the job's trace. */
export const auditContext = (meta: RequestMeta | JobMeta) =>
  "requestId" in meta
    ? {
        requestId: meta.requestId,
        traceId: meta.traceId,
        method: meta.method,
        path: meta.path,
        ipAddress: meta.ip,
        userAgent: meta.userAgent,
        location: meta.location,
      }
    : { traceId: meta.traceId };
