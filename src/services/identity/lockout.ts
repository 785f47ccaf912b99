/**
 * The failed-login lockout, per (account, client): counted in the address's Gate, so an
 * unknown address locks exactly like a known one, and a stranger's failures never lock the
 * owner's other devices out (docs/contract.md "Defaults"). Login, MFA verification and re-authentication
 * all count here. A Gate outage fails open (logged), like the rate limits.
 */

import { sha256Hex } from "../../crypto/random";
import { insertAudit } from "../../db/audit";
import type { UserRow } from "../../db/users";
import { emails, greeting } from "../../email/templates";
import type { DomainError } from "../../errors";
import { type EmailSubject, emailSubject } from "../../gate/client";
import type { LockoutAnswer } from "../../gate/gate";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { accountLocked } from "./errors";

/** How a failure is recorded: the audit action, its reason, and the error when not (yet) locked. */
export interface FailureKind {
  action: string;
  reason: string;
  error: () => DomainError;
}

/** The lockout's view of an attempt: the address tried (known or not) and the account, if any. */
export interface Attempt {
  email: string;
  user: UserRow | undefined;
  sessionId?: string | null;
}

const NOT_LOCKED: LockoutAnswer = { failures: 0, lockedUntil: null, lockedNow: false };

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

/** Answers 423 (audited) when this client is locked out of the account. */
export async function refuseIfLocked(deps: ServiceDeps, meta: RequestMeta, a: Attempt, action: string) {
  const now = deps.now();
  let lockedUntil: number | null = null;
  try {
    ({ lockedUntil } = await deps.gate.lockoutStatus(await subjectOf(a), meta.clientKey));
  } catch (err) {
    deps.logger.error("gate unreachable; lockout not checked (fail open)", { error: String(err) });
  }
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
  let answer = NOT_LOCKED;
  try {
    answer = await deps.gate.lockoutFail(await subjectOf(a), meta.clientKey);
  } catch (err) {
    deps.logger.error("gate unreachable; failure not counted (fail open)", { error: String(err) });
  }
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
  // Measured from now, after the Gate set the lock (its clock ran a little later than `now`).
  if (answer.lockedUntil !== null) throw accountLocked((answer.lockedUntil - deps.now().getTime()) / 1000);
  throw kind.error();
}

/** A success from this client: its count starts again (`lift` also ends a running lock). */
export async function clearFailures(deps: ServiceDeps, meta: RequestMeta, email: string, lift = false) {
  try {
    await deps.gate.lockoutReset(await emailSubject(email), meta.clientKey, lift);
  } catch (err) {
    deps.logger.warn("gate unreachable; lockout count not cleared", { error: String(err) });
  }
}
