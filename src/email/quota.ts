/**
 * The per-address, per-kind hourly cap (docs/contract.md "Defaults"), counted once per email when
 * it is queued, never per delivery. Email code sees only this narrow interface; today the
 * address's Gate keeps the count (src/gate/email-quota.ts), and only `gateEmailQuota` knows it.
 */
import { emailSubject, type GateClient } from "../gate/client";
import type { EmailKind } from "./kinds";

/** At most 5 emails of one kind to one address per hour; beyond, nothing is sent. */
export const EMAILS_PER_KIND_PER_HOUR = 5;

export interface EmailQuota {
  /** Counts one email of `kind` to `to` and answers true, or answers false (counting nothing) over the cap. */
  allow(to: string, kind: EmailKind): Promise<boolean>;
}

/** The quota as the address's Gate keeps it. */
export const gateEmailQuota = (gate: Pick<GateClient, "allowEmail">): EmailQuota => ({
  allow: async (to, kind) => gate.allowEmail(await emailSubject(to), kind, EMAILS_PER_KIND_PER_HOUR),
});
