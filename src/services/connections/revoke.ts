/**
 * Withdrawing a deleted connection's consent at its provider, where the provider offers a way:
 * GoCardless deletes a requisition and its end-user agreements on `DELETE /requisitions/{id}/`
 * (docs/providers/gocardless.md), after which the bank shares nothing more with us. Schwab,
 * Alpaca and SimpleFIN document no revocation call: the person disconnects us on their side.
 * Best effort, after the deletion: our copy is gone either way, and a consent left behind by a
 * failure here lapses at its own expiry (at most the bank's access days).
 */
import type { ConnectionRow } from "../../db/connections";
import { liveConnectionStates } from "../../db/oauth-states";
import type { Deps } from "../../deps";
import { ProviderError } from "../../providers/types";
import { openCredentials, verifierField } from "./credentials";
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

/**
 * The requisitions of a bank connection's outstanding consent flows (started, never completed):
 * read before they are spent or deleted, so `withdrawRequisitions` can delete them at the bank.
 * Empty for other kinds of link; a state whose seal cannot be opened is skipped.
 */
export async function outstandingRequisitions(
  deps: RevokeDeps & Pick<Deps, "db">,
  row: Pick<ConnectionRow, "id" | "userId" | "provider">,
): Promise<string[]> {
  if (deps.providers.get(row.provider)?.link.kind !== "bank_consent") return [];
  const states = await liveConnectionStates(deps.db, row.id);
  const opened = await Promise.all(
    states.map((s) =>
      deps.config.encryption.keyring
        .decrypt(s.codeVerifierEnc, { userId: row.userId, connectionId: row.id, field: verifierField(s.stateHash) })
        .catch(() => null),
    ),
  );
  return opened.filter((id): id is string => id !== null);
}

/** Deletes requisitions at the bank provider (superseded or abandoned consents); never throws. */
export async function withdrawRequisitions(deps: RevokeDeps, provider: string, ids: readonly string[]) {
  const link = deps.providers.get(provider)?.link;
  if (link?.kind !== "bank_consent") return;
  await Promise.all(
    ids.map((id) =>
      link.adapter.deleteRequisition(id).catch((err) => {
        if (err instanceof ProviderError && err.status === 404) return;
        deps.logger.warn("abandoned consent not withdrawn at the provider; it lapses at its expiry", {
          provider,
          ...(err instanceof ProviderError
            ? failureDetails(err)
            : { error: err instanceof Error ? err.name : "unknown" }),
        });
      }),
    ),
  );
}

/** The same for every connection of an account being erased; never throws. */
export async function revokeConsents(deps: RevokeDeps, rows: readonly ConnectionRow[]): Promise<void> {
  await Promise.all(rows.map((row) => revokeConsent(deps, row)));
}
