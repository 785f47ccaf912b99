import type { Config } from "../config";
import type { Deps } from "../deps";
import type { RuleName } from "../gate/rules";
import type { Logger } from "../logger";
import type { AccessClaims } from "../services/access-tokens";

/** Who is calling, from Cloudflare's edge headers and `request.cf`. */
export interface ClientInfo {
  ip: string | null;
  /** What per-client limits and lockouts count: the IPv4 address, or the IPv6 /64 (client-key.ts). */
  key: string;
  userAgent: string | null;
  location: { country: string | null; region: string | null; city: string | null } | null;
}

/** The authenticated caller, set by `requireAuth`. */
export interface AuthContext {
  userId: string;
  sessionId: string;
  tokenVersion: number;
  /** The access token's `iat` and `exp` (seconds). */
  issuedAt: number;
  expiresAt: number;
}

/** Request-scoped state set by middleware; handlers read it with `c.var`. */
export interface Variables {
  requestId: string;
  client: ClientInfo;
  config: Config;
  logger: Logger;
  /** Set once authentication succeeds, so the access log can name the user. */
  userId?: string;
  auth?: AuthContext;
  /** A verified token whose Gate call the handler makes with its read (`readOwn`). */
  pendingGate?: { claims: AccessClaims; rule: RuleName };
  /** The request's dependencies, once built (src/http/deps.ts). */
  deps?: Deps;
}

/** The one Hono environment type of the app (docs/design.md "Conventions"). */
export interface AppEnv {
  Bindings: Env;
  Variables: Variables;
}
