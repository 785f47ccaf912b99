import type { Context } from "hono";
import type { Config } from "../config";
import { type PasswordHasher, scryptHasher } from "../crypto/password";
import { createDb } from "../db/client";
import { createMailer } from "../email/mailer";
import { createEmailSender } from "../email/sender";
import { fail } from "../errors";
import { createGateClient } from "../gate/client";
import type { RequestMeta, ServiceDeps } from "../services/context";
import type { AppEnv, AuthContext } from "./app-env";

// One hasher per config: its dummy hash (for unknown emails) is computed once per isolate.
const hashers = new WeakMap<object, PasswordHasher>();
function hasherFor(config: Config): PasswordHasher {
  let h = hashers.get(config);
  if (!h) {
    h = scryptHasher(config.passwordHash);
    hashers.set(config, h);
  }
  return h;
}

/** The dependencies services take, built from the request's bindings and config. */
export function depsOf(c: Context<AppEnv>): ServiceDeps {
  const db = createDb(c.env.DB);
  const config = c.get("config");
  const logger = c.get("logger");
  const gate = createGateClient(c.env.GATE, config);
  return {
    db,
    config,
    gate,
    logger,
    mailer: createMailer({
      sender: createEmailSender(config, db),
      gate,
      logger,
      defer: (work) => c.executionCtx.waitUntil(work),
    }),
    now: () => new Date(),
    passwords: hasherFor(config),
  };
}

/** Request facts for sessions and the audit trail. */
export function metaOf(c: Context<AppEnv>): RequestMeta {
  const client = c.get("client");
  return {
    requestId: c.get("requestId"),
    method: c.req.method,
    path: c.req.path,
    ip: client.ip,
    clientKey: client.key,
    userAgent: client.userAgent,
    location: client.location,
  };
}

/** The authenticated caller; only valid behind `requireAuth`. */
export function authOf(c: Context<AppEnv>): AuthContext {
  const auth = c.get("auth");
  if (!auth) throw fail("unauthenticated", "Authentication is required.");
  return auth;
}
