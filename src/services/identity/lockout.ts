/**
 * The failed-login lockout, per (account, client): counted in the address's Limiter object, so an
 * unknown address locks exactly like a known one, and a stranger's failures never lock the
 * owner's other devices out (docs/contract.md "Defaults"). Login, MFA verification and
 * re-authentication all count here. Login also spends the address's budget of failures
 * (`login_email`), which never refuses a client that logged in to the account within 30 days.
 * These are security checks: a Limiter that cannot be reached refuses the attempt (503
 * `gate_unavailable`) rather than skip them.
 */

import { sha256Hex } from "../../crypto/random";
import { insertAudit } from "../../db/audit";
import type { UserRow } from "../../db/users";
import { emails, greeting } from "../../email/templates";
import { type DomainError, gateUnavailable } from "../../errors";
import { type EmailSubject, emailSubject } from "../../limiter/client";
import type { LockoutAnswer } from "../../limiter/lockouts";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { refuseIfLimited } from "../limits";
import { accountLocked } from "./errors";

/** How a failure is recorded: the audit action, its reason, and the error when not (yet) locked. */
export interface FailureKind {
  action: string;
  reason: string;
  error: () => DomainError;
  /** A wrong password at login: it also spends the address's budget of failures. */
  spendsAddressBudget?: boolean;
}

/** The lockout's view of an attempt: the address tried (known or not) and the account, if any. */
export interface Attempt {
  email: string;
  user: UserRow | undefined;
  sessionId?: string | null;
}

/** Audit columns of an attempt; an unknown address appears only as its SHA-256. */
async function attemptAudit(meta: RequestMeta, a: Attempt, now: Date) {
  return {
    ...auditContext(meta),
    occurredAt: now,
    userId: a.user?.id ?? null,
    sessionId: a.sessionId ?? null,
    ...(a.user ? {} : { unknownEmailSha256: await sha256Hex(a.email) }),
  };
}

const subjectOf = (a: Attempt): Promise<EmailSubject> => emailSubject(a.email);

/** Runs a Limiter call of a security check; unreachable means refused (503), never skipped. */
async function checked<T>(deps: ServiceDeps, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    deps.logger.error(`limiter unreachable; ${what} refused (fail closed)`, { error: String(err) });
    throw gateUnavailable(err);
  }
}

/**
 * Answers 423 (audited) when this client is locked out of the account; with `addressBudget`
 * (login), 429 when the address's budget of failures is spent and this client is not known.
 */
export async function refuseIfLocked(
  deps: ServiceDeps,
  meta: RequestMeta,
  a: Attempt,
  action: string,
  options: { addressBudget?: boolean } = {},
) {
  const now = deps.now();
  const subject = await subjectOf(a);
  const { lockedUntil, budget } = await checked(deps, "lockout check", () =>
    deps.limiter.loginGate(subject, meta.clientKey, options.addressBudget ? "login_email" : null),
  );
  if (budget) refuseIfLimited(deps, meta, [budget], ["email"], a.user?.id);
  if (lockedUntil === null) return;
  const { unknownEmailSha256, ...base } = await attemptAudit(meta, a, now);
  await insertAudit(deps.db, {
    ...base,
    action,
    outcome: "denied",
    details: { reason: "locked", ...(unknownEmailSha256 ? { email_sha256: unknownEmailSha256 } : {}) },
  });
  throw accountLocked((lockedUntil - now.getTime()) / 1000);
}

/**
 * Counts a failed credential check from this client, audits it (one D1 write whether or not the
 * account exists), tells the owner once when a lock starts, and throws: the kind's error, or 423.
 */
export async function countFailure(
  deps: ServiceDeps,
  meta: RequestMeta,
  a: Attempt,
  kind: FailureKind,
): Promise<never> {
  const now = deps.now();
  const subject = await subjectOf(a);
  const answer: LockoutAnswer = await checked(deps, "failure count", () =>
    deps.limiter.loginFailed(subject, meta.clientKey, kind.spendsAddressBudget ? "login_email" : null),
  );
  const { unknownEmailSha256, ...base } = await attemptAudit(meta, a, now);
  const hashed = unknownEmailSha256 ? { email_sha256: unknownEmailSha256 } : {};
  const failure = insertAudit(deps.db, {
    ...base,
    action: kind.action,
    outcome: "failure",
    details: { reason: kind.reason, ...hashed },
  });
  if (!answer.lockedNow) await failure;
  else {
    const until = new Date(answer.lockedUntil ?? now.getTime());
    await deps.db.batch([
      failure,
      insertAudit(deps.db, {
        ...base,
        action: "auth.lockout",
        outcome: "success",
        // The client (IP) is in the erasable request context, never in details (append-only).
        details: { until: until.toISOString(), ...hashed },
      }),
    ]);
    if (a.user) {
      const minutes = Math.round(deps.config.lockout.durationSeconds / 60);
      deps.mailer.send(emails.accountLocked(a.user.email, greeting(a.user), minutes));
    }
  }
  // Measured from now, after the Limiter set the lock (its clock ran a little later than `now`).
  if (answer.lockedUntil !== null) throw accountLocked((answer.lockedUntil - deps.now().getTime()) / 1000);
  throw kind.error();
}

/**
 * A success from this client: its count starts again (`lift` also ends a running lock; `known`:
 * it logged in, so the address's budget never refuses it). Best effort: a miss only means the
 * count runs on.
 */
export async function clearFailures(
  deps: ServiceDeps,
  meta: RequestMeta,
  email: string,
  options: { lift?: boolean; known?: boolean } = {},
) {
  try {
    await deps.limiter.loginSucceeded(await emailSubject(email), meta.clientKey, options);
  } catch (err) {
    deps.logger.warn("limiter unreachable; lockout count not cleared", { error: String(err) });
  }
}
