import { z } from "zod";
import type { Rule } from "../durable/bucket";

export type { Rule };

/** Every rate limit in one place (docs/contract.md "Defaults"); overridable with RATE_LIMITS. */
export const DEFAULT_RULES = {
  login_ip: { burst: 5, refill: 5, perSeconds: 60 },
  // Spent only by failed logins, and never by a client that logged in to the account within 30 days.
  login_email: { burst: 20, refill: 20, perSeconds: 900 },
  // Per account: wrong second-factor answers, wherever they are given (login, deletion, MFA off…).
  mfa_user: { burst: 10, refill: 10, perSeconds: 3600 },
  register_ip: { burst: 3, refill: 3, perSeconds: 60 },
  email_request_ip: { burst: 3, refill: 1, perSeconds: 60 },
  token_submit_ip: { burst: 10, refill: 10, perSeconds: 60 },
  refresh_session: { burst: 10, refill: 10, perSeconds: 60 },
  user_read: { burst: 100, refill: 100, perSeconds: 60 },
  user_write: { burst: 50, refill: 50, perSeconds: 60 },
  connect_provider: { burst: 5, refill: 5, perSeconds: 60 },
  // Outbound calls per provider app (docs/providers/), taken before every call, in the Limiter:
  // Schwab 120/min (unofficial), Alpaca 200/min per key (how it applies to OAuth tokens is
  // uncertain: one budget for the app, the safe reading), GoCardless 100/min on /accounts per
  // company, SimpleFIN none published (a courtesy cap; its daily share is each connection's quota).
  provider_schwab: { burst: 20, refill: 120, perSeconds: 60 },
  provider_alpaca: { burst: 20, refill: 200, perSeconds: 60 },
  provider_gocardless: { burst: 20, refill: 100, perSeconds: 60 },
  provider_simplefin: { burst: 10, refill: 60, perSeconds: 60 },
  // The in-process simulators: each sandbox its own bucket, generous (a local load test lowers it).
  provider_sandbox: { burst: 200, refill: 1200, perSeconds: 60 },
} as const satisfies Record<string, Rule>;

export type RuleName = keyof typeof DEFAULT_RULES;
export type Rules = Record<RuleName, Rule>;

const RuleSchema = z.object({
  burst: z.number().int().min(1).max(100_000),
  refill: z.number().int().min(1).max(100_000),
  per_seconds: z.number().int().min(1).max(86_400),
});

/** RATE_LIMITS: JSON object of rule name → {burst, refill, per_seconds}; unknown names refused. */
export const RateLimitsSchema = z
  .string()
  .default("{}")
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be a JSON object" });
      return z.NEVER;
    }
  })
  .pipe(z.partialRecord(z.enum(Object.keys(DEFAULT_RULES) as [RuleName, ...RuleName[]]), RuleSchema))
  .transform((overrides): Rules => {
    const rules = { ...DEFAULT_RULES } as Rules;
    for (const [name, r] of Object.entries(overrides) as [RuleName, z.infer<typeof RuleSchema>][]) {
      rules[name] = { burst: r.burst, refill: r.refill, perSeconds: r.per_seconds };
    }
    return rules;
  });
