/**
 * Step-up: what a stolen access token must not do alone (delete or export the account, turn MFA
 * off, change the email or the password) asks the password, and with MFA on a current code or a
 * backup code too. Wrong answers count as re-authentications (./reauth.ts) and wrong codes spend
 * the account's budget (./mfa.ts), the same everywhere.
 */
import type { UserRow } from "../../db/users";
import { DomainError } from "../../errors";
import type { RequestMeta, ServiceDeps } from "../context";
import { confirmSecondFactor, type Factor } from "./mfa";
import { reauthenticate } from "./reauth";

type Auth = { userId: string; sessionId: string };

/** Checks the proof; `factor` says which second factor was spent (null when MFA is off). */
export async function stepUp(
  deps: ServiceDeps,
  meta: RequestMeta,
  auth: Auth,
  user: UserRow,
  proof: { password: string } & Factor,
  action: string,
): Promise<{ needsRehash: boolean; factor: { method: "totp" | "backup_code" } | null }> {
  try {
    const { needsRehash } = await reauthenticate(deps, meta, auth, user, proof.password, action);
    const factor = await confirmSecondFactor(deps, meta, auth, user, proof, action);
    deps.metrics.auth({ action: "reauth", outcome: "success", reason: "" });
    return { needsRehash, factor };
  } catch (err) {
    const code = err instanceof DomainError ? err.code : "internal_error";
    const outcome = code === "rate_limited" ? "denied" : code === "gate_unavailable" ? "unavailable" : "failure";
    deps.metrics.auth({ action: "reauth", outcome, reason: code });
    throw err;
  }
}
