/**
 * Each provider's outbound budget (issue 23: "per-provider limits on outbound calls"): a token
 * bucket in the Limiter per provider slug (rules `provider_<provider>`, src/services/rate-rules.ts),
 * taken before every call the adapters make (src/providers/http.ts hooks). A short wait is waited
 * out; a longer one refuses the call with a RateLimitedError (`throttled`), which the sync turns
 * into a delayed retry that is never the connection's failure, so ten thousand connections due in
 * one tick queue behind the budget instead of bursting past it.
 */
import type { LimiterClient } from "../../limiter/client";
import type { Logger } from "../../logger";
import { RateLimitedError } from "../../providers/types";
import type { RuleName } from "../rate-rules";

/** Waits this long at most, in place, for a token; longer waits go back to the queue. */
export const MAX_WAIT_SECONDS = 2;
const MAX_WAITS = 3;

/** The rule of a slug: each sandbox spends its own bucket under the simulators' rule. */
export function outboundRule(slug: string): RuleName {
  return (slug === "sandbox" || slug.startsWith("sandbox_") ? "provider_sandbox" : `provider_${slug}`) as RuleName;
}

/** A plain shape (deps.ts builds the hook, so this cannot import deps.ts). */
interface OutboundDeps {
  limiter: LimiterClient<RuleName>;
  sleep: (ms: number) => Promise<void>;
  logger: Logger;
}

/** Takes one call from the slug's budget; throws RateLimitedError (`throttled`) when it would wait too long. */
export async function takeOutboundBudget(deps: OutboundDeps, slug: string): Promise<void> {
  const rule = outboundRule(slug);
  for (let waited = 0; ; waited++) {
    let answer: Awaited<ReturnType<OutboundDeps["limiter"]["take"]>>;
    try {
      answer = await deps.limiter.take(`provider:${slug}`, rule);
    } catch (err) {
      // The Limiter unreachable: the provider's own 429 still protects it; fail open, logged.
      deps.logger.error("outbound budget unreachable; call made unmetered", { provider: slug, error: String(err) });
      return;
    }
    if (answer.allowed) return;
    if (waited < MAX_WAITS && answer.retryAfterSeconds <= MAX_WAIT_SECONDS) {
      await deps.sleep(answer.retryAfterSeconds * 1000);
      continue;
    }
    throw new RateLimitedError(`${slug}: our outbound budget is spent`, answer.retryAfterSeconds, {
      reason: "throttled",
      detail: `rule ${rule}`,
    });
  }
}
