import type { Config } from "../config";
import type { PasswordHasher } from "../crypto/password";
import type { Db } from "../db/client";
import type { Location } from "../db/schema";
import type { Mailer } from "../email/mailer";
import type { GateClient } from "../gate/client";
import type { Logger } from "../logger";

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

/** What identity services depend on; time comes in as a clock so tests can control it. */
export interface ServiceDeps {
  db: Db;
  config: Config;
  /** Sends email after the response, capped per address and kind (src/email/mailer.ts). */
  mailer: Mailer;
  logger: Logger;
  /** The per-subject Gates: revocations and token versions are told here first. */
  gate: GateClient;
  now: () => Date;
  /** Password hashing (src/crypto/password.ts); injectable so tests can observe the work done. */
  passwords: PasswordHasher;
}

/** The audit columns that describe the request. */
export const auditContext = (meta: RequestMeta) => ({
  requestId: meta.requestId,
  method: meta.method,
  path: meta.path,
  ipAddress: meta.ip,
  userAgent: meta.userAgent,
  location: meta.location,
});
