/**
 * The per-address, per-kind hourly cap (docs/contract.md "Defaults"), counted once per email when
 * it is queued, never per delivery. Email code sees only this narrow interface; the address's
 * Limiter object keeps the count (src/limiter/email-quota.ts), and only `limiterEmailQuota` knows it.
 */
import { emailSubject, type LimiterClient } from "../limiter/client";
import type { EmailKind } from "./kinds";

/** At most 5 emails of one kind to one address per hour; beyond, nothing is sent. */
export const EMAILS_PER_KIND_PER_HOUR = 5;

export interface EmailQuota {
  /** Counts one email of `kind` to `to` and answers true, or answers false (counting nothing) over the cap. */
  allow(to: string, kind: EmailKind): Promise<boolean>;
}

/** The quota as the address's Limiter object keeps it. */
export const limiterEmailQuota = (limiter: Pick<LimiterClient<string>, "allowEmail">): EmailQuota => ({
  allow: async (to, kind) => limiter.allowEmail(await emailSubject(to), kind, EMAILS_PER_KIND_PER_HOUR),
});
