/**
 * The one place rate limits are taken and refused (docs/contract.md "Defaults"): anonymous
 * routes (per client, per address: the Limiter), authenticated requests (per user, answered by
 * the user's home together with the session check) and refresh (per session, in the home). A
 * refusal audits the first denial of a burst, off the response path; an object that cannot be
 * reached fails open, logged, unless the limit guards credentials.
 */
import { insertAudit } from "../db/audit";
import type { Deps } from "../deps";
import type { LimitAnswer } from "../durable/bucket";
import { fail, gateUnavailable } from "../errors";
import type { ClientSubject, EmailSubject } from "../limiter/client";
import { auditContext, type RequestMeta } from "./context";
import type { RuleName } from "./rate-rules";

/** What a limit counts against: the client, the address tried, the user, or a session. */
export type LimitKind = "ip" | "email" | "user" | "session";

/** A limit to take: a client's or an address's (the Limiter), or a session's (its user's home). */
export type LimitCheck =
  | { rule: RuleName; kind: "ip" | "email"; subject: ClientSubject | EmailSubject }
  | { rule: RuleName; kind: "session"; userId: string; sessionId: string };

/** 429 `rate_limited`: wait for the most restrictive refusal; the limits' state goes along. */
export function rateLimited(answers: LimitAnswer[]) {
  const wait = Math.max(...answers.filter((a) => !a.allowed).map((a) => a.retryAfterSeconds), 1);
  return fail("rate_limited", `Too many requests; retry in ${wait} s.`, {
    retryAfterSeconds: wait,
    rateLimits: answers,
  });
}

const take = (deps: LimitDeps, ch: LimitCheck) =>
  ch.kind === "session" ? deps.homes.take(ch.userId, ch.rule, ch.sessionId) : deps.limiter.take(ch.subject, ch.rule);

type LimitDeps = Pick<Deps, "homes" | "limiter" | "db" | "logger" | "now" | "defer" | "metrics">;

/**
 * Takes one token from each check's bucket; throws 429 when any refuses. A Limiter (or home) that cannot
 * be reached skips the limits (fail open, logged), unless `failClosed`: limits that guard
 * credentials (login, MFA verification) answer 503 `gate_unavailable` instead.
 */
export async function takeLimits(
  deps: LimitDeps,
  meta: RequestMeta,
  checks: LimitCheck[],
  options: { userId?: string; failClosed?: boolean } = {},
): Promise<LimitAnswer[]> {
  let answers: LimitAnswer[];
  try {
    answers = await Promise.all(checks.map((ch) => take(deps, ch)));
  } catch (err) {
    if (options.failClosed) {
      deps.logger.error("limiter unreachable; request refused (fail closed)", { error: String(err) });
      throw gateUnavailable(err);
    }
    deps.logger.error("limiter unreachable; rate limit skipped (fail open)", { error: String(err) });
    return [];
  }
  refuseIfLimited(
    deps,
    meta,
    answers,
    checks.map((ch) => ch.kind),
    options.userId,
  );
  return answers;
}

/**
 * Throws 429 `rate_limited` when any answer refused, after auditing each first refusal of a
 * burst (rule, key kind, route; an address appears only as its Limiter subject's hash).
 */
export function refuseIfLimited(
  deps: LimitDeps,
  meta: RequestMeta,
  answers: LimitAnswer[],
  kinds: LimitKind[],
  userId?: string,
) {
  if (answers.every((a) => a.allowed)) return;
  answers.forEach((a, i) => {
    if (!a.allowed) deps.metrics.rateLimit({ rule: a.name, keyKind: kinds[i] ?? "ip" });
  });
  const first = answers.map((a, i) => ({ a, kind: kinds[i] })).filter(({ a }) => a.firstDenial);
  if (first.length > 0) {
    const at = deps.now();
    deps.defer(
      Promise.all(
        first.map(({ a, kind }) =>
          insertAudit(deps.db, {
            ...auditContext(meta),
            occurredAt: at,
            action: "rate_limit.exceeded",
            outcome: "denied",
            userId: userId ?? null,
            details: { rule: a.name, key_kind: kind, route: meta.path },
          }),
        ),
      ).catch((err) => deps.logger.error("audit write failed", { error: String(err) })),
    );
  }
  throw rateLimited(answers);
}
