import type { Context } from "hono";
import { fail } from "../errors";
import type { RequestMeta } from "../services/context";
import type { AppEnv, AuthContext } from "./app-env";

/** Request facts for sessions and the audit trail. */
export function metaOf(c: Context<AppEnv>): RequestMeta {
  const client = c.get("client");
  return {
    requestId: c.get("requestId"),
    traceId: c.get("trace").traceId,
    method: c.req.method,
    path: c.req.path,
    ip: client.ip,
    clientKey: client.key,
    userAgent: client.userAgent,
    // Read only when used: geo costs a parse of `request.cf` (request-context.ts).
    get location() {
      return client.location;
    },
  };
}

/** The authenticated caller; only valid behind `requireAuth`. */
export function authOf(c: Context<AppEnv>): AuthContext {
  const auth = c.get("auth");
  if (!auth) throw fail("unauthenticated", "Authentication is required.");
  return auth;
}
