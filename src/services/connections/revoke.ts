/**
 * Withdrawing a deleted connection's consent at its provider, where the provider offers a way:
 * GoCardless deletes a requisition and its end-user agreements on `DELETE /requisitions/{id}/`
 * (docs/providers/gocardless.md), after which the bank shares nothing more with us. Schwab,
 * Alpaca and SimpleFIN document no revocation call: the person disconnects us on their side.
 * Best effort, after the deletion: our copy is gone either way, and a consent left behind by a
 * failure here lapses at its own expiry (at most the bank's access days).
 */
import type { ConnectionRow } from "../../db/connections";
import type { Deps } from "../../deps";
import { ProviderError } from "../../providers/types";
import { openCredentials } from "./credentials";
import { failureDetails } from "./errors";

export type RevokeDeps = Pick<Deps, "providers" | "config" | "logger">;

/** Withdraws the consent behind a deleted connection's row; never throws. */
export async function revokeConsent(deps: RevokeDeps, row: ConnectionRow): Promise<void> {
  const link = deps.providers.get(row.provider)?.link;
  if (link?.kind !== "bank_consent" || !row.accessTokenEnc) return;
  try {
    const { credential: requisitionId } = await openCredentials(deps.config.encryption.keyring, row);
    await link.adapter.deleteRequisition(requisitionId);
    deps.logger.info("consent withdrawn at the provider", { connection_id: row.id, provider: row.provider });
  } catch (err) {
    // A requisition already gone (expired, deleted by the person) answers 404: nothing to withdraw.
    if (err instanceof ProviderError && err.status === 404) return;
    deps.logger.warn("consent not withdrawn at the provider; it lapses at its expiry", {
      connection_id: row.id,
      provider: row.provider,
      ...(err instanceof ProviderError ? failureDetails(err) : { error: err instanceof Error ? err.name : "unknown" }),
    });
  }
}

/** The same for every connection of an account being erased; never throws. */
export async function revokeConsents(deps: RevokeDeps, rows: readonly ConnectionRow[]): Promise<void> {
  await Promise.all(rows.map((row) => revokeConsent(deps, row)));
}
