/**
 * Withdrawing a deleted connection's consent at its provider, where the provider offers a way:
 * GoCardless deletes a requisition and its end-user agreements on `DELETE /requisitions/{id}/`
 * (docs/providers/gocardless.md), after which the bank shares nothing more with us. Schwab,
 * Alpaca and SimpleFIN document no revocation call: the person disconnects us on their side.
 * Best effort, after the deletion: our copy is gone either way, and a consent left behind by a
 * failure here lapses at its own expiry (at most the bank's access days).
 */
import type { ConnectionRow } from "../../db/connections";
import { liveConnectionStates, type OAuthStateRow } from "../../db/oauth-states";
import type { Deps } from "../../deps";
import { ProviderError } from "../../providers/types";
import { openCredentials, verifierField } from "./credentials";
import { failureDetails } from "./errors";

export type RevokeDeps = Pick<Deps, "providers" | "config" | "logger">;

/** Withdraws the consent behind a deleted connection's row (as it was deleted); never throws. */
export async function revokeConsent(deps: RevokeDeps, row: ConnectionRow): Promise<void> {
  if (deps.providers.get(row.provider)?.link.kind !== "bank_consent" || !row.accessTokenEnc) return;
  const requisition = await openCredentials(deps.config.encryption.keyring, row).then(
    (c) => c.credential,
    () => null,
  );
  if (requisition) await withdrawRequisitions(deps, row.provider, [requisition]);
}

/**
 * The requisitions behind a bank connection's consent flows (`states`: the ones a batch just
 * spent, or the outstanding ones before they go), so `withdrawRequisitions` can delete them at
 * the bank. Empty for other kinds of link; a state whose seal cannot be opened is skipped.
 */
export async function requisitionsOf(
  deps: RevokeDeps,
  row: Pick<ConnectionRow, "id" | "userId" | "provider">,
  states: readonly Pick<OAuthStateRow, "stateHash" | "codeVerifierEnc">[],
): Promise<string[]> {
  if (deps.providers.get(row.provider)?.link.kind !== "bank_consent") return [];
  const opened = await Promise.all(
    states.map((s) =>
      deps.config.encryption.keyring
        .decrypt(s.codeVerifierEnc, { userId: row.userId, connectionId: row.id, field: verifierField(s.stateHash) })
        .catch(() => null),
    ),
  );
  return opened.filter((id): id is string => id !== null);
}

/** The requisitions of a connection's outstanding (unfinished) consent flows. */
export async function outstandingRequisitions(
  deps: RevokeDeps & Pick<Deps, "db">,
  row: Pick<ConnectionRow, "id" | "userId" | "provider">,
): Promise<string[]> {
  if (deps.providers.get(row.provider)?.link.kind !== "bank_consent") return [];
  return requisitionsOf(deps, row, await liveConnectionStates(deps.db, row.id));
}

/** Deletes requisitions at the bank provider; never throws (a failure is logged and lapses at its expiry). */
export async function withdrawRequisitions(deps: RevokeDeps, provider: string, ids: readonly string[]) {
  const link = deps.providers.get(provider)?.link;
  if (link?.kind !== "bank_consent") return;
  await Promise.all(
    ids.map((id) =>
      link.adapter.deleteRequisition(id).then(
        () => deps.logger.info("consent withdrawn at the provider", { provider }),
        (err) => {
          // A requisition already gone (expired, deleted by the person) answers 404: nothing to withdraw.
          if (err instanceof ProviderError && err.status === 404) return;
          deps.logger.warn("consent not withdrawn at the provider; it lapses at its expiry", {
            provider,
            ...(err instanceof ProviderError
              ? failureDetails(err)
              : { error: err instanceof Error ? err.name : "unknown" }),
          });
        },
      ),
    ),
  );
}

/** The same for every connection of an account being erased; never throws. */
export async function revokeConsents(deps: RevokeDeps, rows: readonly ConnectionRow[]): Promise<void> {
  await Promise.all(rows.map((row) => revokeConsent(deps, row)));
}
