import type { Context, MiddlewareHandler } from "hono";
import { insertAudit } from "../db/audit";
import { createDb } from "../db/client";
import { createGateClient, emailSubject } from "../gate/client";
import type { LimitAnswer } from "../gate/gate";
import { rateLimited } from "../gate/refusal";
import type { RuleName } from "../gate/rules";
import { auditContext } from "../services/context";
import type { AppEnv } from "./app-env";
import { rateLimitHeaders } from "./rate-limit-headers";
import { metaOf } from "./services";

/** Which subject a rule counts against on an anonymous route. */
export type LimitKey = "ip" | "email";

/** The body's `email`, normalised, when there is one (the validator judges it later). */
async function bodyEmail(c: Context<AppEnv>): Promise<string | null> {
  try {
    const body = (await c.req.json()) as { email?: unknown };
    return typeof body.email === "string" ? body.email.trim().toLowerCase() : null;
  } catch {
    return null;
  }
}

/** Sets the RateLimit fields on the response (also used by requireAuth and refresh). */
export function applyRateLimitHeaders(c: Context<AppEnv>, answers: LimitAnswer[]) {
  for (const [k, v] of Object.entries(rateLimitHeaders(answers))) c.header(k, v);
}

/**
 * Audits the first refusal of a burst: rule, key kind and route. Emails appear only as the
 * subject's hash, never raw. Runs after the response (read-only event, ARCHITECTURE.md §2).
 */
export function auditRateLimit(c: Context<AppEnv>, answers: LimitAnswer[], kinds: string[], userId?: string) {
  const first = answers.map((a, i) => ({ a, kind: kinds[i] })).filter(({ a }) => a.firstDenial);
  if (first.length === 0) return;
  const db = createDb(c.env.DB);
  const meta = metaOf(c);
  const write = Promise.all(
    first.map(({ a, kind }) =>
      insertAudit(db, {
        ...auditContext(meta),
        occurredAt: new Date(),
        action: "rate_limit.exceeded",
        outcome: "denied",
        userId: userId ?? null,
        details: { rule: a.name, key_kind: kind, route: meta.path },
      }),
    ),
  ).catch((err) => c.get("logger").error("audit write failed", { error: String(err) }));
  c.executionCtx.waitUntil(write);
}

/**
 * Rate limits an anonymous route by client IP and/or the body's email, each in its own Gate
 * (`ip:<addr>`, `email:<sha256>`). If a Gate is unreachable the limit fails open and is logged.
 */
export function rateLimit(limits: { rule: RuleName; by: LimitKey }[]): MiddlewareHandler<AppEnv> {
  return async function rateLimit(c, next) {
    const gate = createGateClient(c.env.GATE, c.get("config"));
    const checks: { rule: RuleName; subject: string; kind: LimitKey }[] = [];
    for (const l of limits) {
      if (l.by === "ip") checks.push({ rule: l.rule, subject: `ip:${c.get("client").key}`, kind: "ip" });
      else {
        const email = await bodyEmail(c);
        if (email) checks.push({ rule: l.rule, subject: await emailSubject(email), kind: "email" });
      }
    }
    let answers: LimitAnswer[];
    try {
      answers = await Promise.all(checks.map((ch) => gate.limit(ch.subject, ch.rule)));
    } catch (err) {
      c.get("logger").error("gate unreachable; rate limit skipped (fail open)", { error: String(err) });
      return next();
    }
    if (answers.some((a) => !a.allowed)) {
      auditRateLimit(
        c,
        answers,
        checks.map((ch) => ch.kind),
      );
      throw rateLimited(answers);
    }
    applyRateLimitHeaders(c, answers);
    await next();
  };
}
