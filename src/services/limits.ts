/**
 * The one place rate limits are taken and refused (docs/contract.md "Defaults"): anonymous
 * routes (per client, per address), authenticated requests (per user, answered by the user's
 * Gate together with the session check) and refresh (per session). A refusal audits the first
 * denial of a burst, off the response path; a Gate that cannot be reached fails open, logged.
 */
import { insertAudit } from "../db/audit";
import type { Deps } from "../deps";
import { gateUnavailable } from "../errors";
import type { LimitAnswer } from "../gate/gate";
import { rateLimited } from "../gate/refusal";
import type { RuleName } from "../gate/rules";
import { auditContext, type RequestMeta } from "./context";

/** What a limit counts against: the client, the address tried, the user, or a session. */
export type LimitKind = "ip" | "email" | "user" | "session";

export interface LimitCheck {
  rule: RuleName;
  /** The Gate subject: `ip:<client>`, `email:<sha256>`, `user:<id>`. */
  subject: string;
  kind: LimitKind;
  /** A sub-key within the subject (the session of a `refresh_session` bucket). */
  key?: string;
}

type LimitDeps = Pick<Deps, "gate" | "db" | "logger" | "now" | "defer">;

/**
 * Takes one token from each check's bucket; throws 429 when any refuses. A Gate that cannot be
 * reached skips the limits (fail open, logged), unless `failClosed`: limits that guard
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
    answers = await Promise.all(checks.map((ch) => deps.gate.limit(ch.subject, ch.rule, ch.key)));
  } catch (err) {
    if (options.failClosed) {
      deps.logger.error("gate unreachable; request refused (fail closed)", { error: String(err) });
      throw gateUnavailable(err);
    }
    deps.logger.error("gate unreachable; rate limit skipped (fail open)", { error: String(err) });
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
 * burst (rule, key kind, route; an address appears only as its Gate subject's hash).
 */
export function refuseIfLimited(
  deps: LimitDeps,
  meta: RequestMeta,
  answers: LimitAnswer[],
  kinds: LimitKind[],
  userId?: string,
) {
  if (answers.every((a) => a.allowed)) return;
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
