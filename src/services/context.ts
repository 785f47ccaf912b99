import type { Config } from "../config";
import type { PasswordHasher } from "../crypto/password";
import type { Db } from "../db/client";
import type { Location } from "../db/schema";
import type { EmailSender } from "../email/sender";
import type { GateClient } from "../gate/client";

/** Who made the request, for sessions and the audit trail. Built by the HTTP layer. */
export interface RequestMeta {
  requestId: string;
  method: string;
  path: string;
  ip: string | null;
  userAgent: string | null;
  location: Location | null;
}

/** What identity services depend on; time comes in as a clock so tests can control it. */
export interface ServiceDeps {
  db: Db;
  config: Config;
  email: EmailSender;
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
