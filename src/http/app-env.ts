import type { Config } from "../config";
import type { Deps } from "../deps";
import type { ReadAnswer } from "../home/ledger/reads";
import type { Logger } from "../logger";
import type { Trace } from "../trace";

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
  /** The request's W3C trace (src/trace.ts), continued from `traceparent` or started here. */
  trace: Trace;
  client: ClientInfo;
  config: Config;
  logger: Logger;
  /** Set once authentication succeeds, so the access log can name the user. */
  userId?: string;
  auth?: AuthContext;
  /** The user's own data read in the authorization's call (`requireAuth({ read })`, `ownData`). */
  own?: ReadAnswer | null;
  /** The request's dependencies, once built (src/http/deps.ts). */
  deps?: Deps;
}

/** The one Hono environment type of the app (docs/design.md "Conventions"). */
export interface AppEnv {
  Bindings: Env;
  Variables: Variables;
}
