/**
 * Re-authentication inside a session (`current_password`, `password`): docs/contract.md "Identity" treats it as a
 * login attempt. A wrong answer counts toward the lockout of the session's client, and ten
 * wrong in a row end the session, so a stolen session cannot brute-force the password.
 */
import type { UserRow } from "../../db/users";
import { gateUnavailable } from "../../errors";
import type { RequestMeta, ServiceDeps } from "../context";
import { endSession } from "../sessions";
import { invalidCredentials, sessionEndedByReauth } from "./errors";
import { clearFailures, countFailure, refuseIfLocked } from "./lockout";

/** Wrong re-authentications in a row that end the session. */
export const REAUTH_MAX_FAILURES = 10;

type Auth = { userId: string; sessionId: string };

/**
 * Checks the password of the logged-in user; throws 423 when the client is locked out,
 * `session_revoked` on the tenth wrong answer in a row, else `invalid_credentials` (or 423).
 * `action` names the audit event of the operation being re-authenticated.
 */
export async function reauthenticate(
  deps: ServiceDeps,
  meta: RequestMeta,
  auth: Auth,
  user: UserRow,
  password: string,
  action: string,
): Promise<{ needsRehash: boolean }> {
  const attempt = { email: user.email, user, sessionId: auth.sessionId };
  await refuseIfLocked(deps, meta, attempt, action);
  const check = await deps.passwords.verifyPassword(password, user.passwordHash);
  if (check.ok) {
    await Promise.all([
      clearFailures(deps, meta, user.email),
      deps.homes.reauthSucceeded(auth.userId, auth.sessionId).catch(() => undefined),
    ]);
    return { needsRehash: check.needsRehash };
  }
  let run: number;
  try {
    run = await deps.homes.reauthFailed(auth.userId, auth.sessionId);
  } catch (err) {
    // Fail closed: an uncounted wrong answer is a free guess.
    deps.logger.error("home unreachable; re-authentication refused (fail closed)", { error: String(err) });
    throw gateUnavailable(err);
  }
  const counted = countFailure(deps, meta, attempt, { action, reason: "bad_password", error: invalidCredentials });
  if (run < REAUTH_MAX_FAILURES) return counted;
  // The tenth in a row: the failure still counts toward the client's lockout, but the answer
  // the caller needs is that this session is over.
  await counted.catch(() => undefined);
  await endSession(deps, meta, {
    userId: auth.userId,
    sessionId: auth.sessionId,
    reason: "reauthentication_failed",
    audit: {
      action: "session.revoked",
      details: { scope: "one", reason: "reauthentication_failed", failures: REAUTH_MAX_FAILURES },
    },
  });
  throw sessionEndedByReauth();
}
