import type { Location } from "../db/schema";
import type { Deps } from "../deps";

/** Who made the request, for sessions and the audit trail. Built by the HTTP layer. */
export interface RequestMeta {
  requestId: string;
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
  "db" | "config" | "mailer" | "logger" | "homes" | "limiter" | "now" | "passwords" | "defer"
>;

/** The audit columns that describe the request. */
export const auditContext = (meta: RequestMeta) => ({
  requestId: meta.requestId,
  method: meta.method,
  path: meta.path,
  ipAddress: meta.ip,
  userAgent: meta.userAgent,
  location: meta.location,
});
