/**
 * Completing an authorization (RFC 6749 §4.1.2–4.1.3): spend the state, exchange the code with
 * the PKCE verifier, store the tokens encrypted and mark the connection `active`. Only the user
 * who started the flow completes it, with their access token (POST /connections/callback): a
 * browser arriving at the GET callback is no proof of who started it (login CSRF, like Plaid
 * Link's public-token exchange), so that only hands the answer back (./handoff.ts).
 */
import { KeyringError } from "../../crypto/keyring";
import { sha256Hex } from "../../crypto/random";
import { findConnection, updateUserConnection } from "../../db/connections";
import { consumeOAuthState, findOAuthState, type OAuthStateRow } from "../../db/oauth-states";
import { fail } from "../../errors";
import { ProviderError, type ProviderTokens } from "../../providers/types";
import type { RequestMeta } from "../context";
import { connectionAudit } from "./audit";
import { sealTokens, verifierField } from "./credentials";
import type { ConnectionDeps } from "./deps";
import { failureDetails, invalidState, providerApiError, providerNotAvailable } from "./errors";
import { lastErrorMessage } from "./last-error";
import { type ConnectionView, connectionView } from "./view";

/** What came back from the provider (query of the GET callback, or the POST body). */
export interface CallbackInput {
  state: string;
  code?: string;
  /** RFC 6749 §4.1.2.1 error redirect, e.g. `access_denied`. */
  error?: string;
}

type RefusalReason = "unknown" | "used" | "expired" | "foreign";

function whyRefused(found: OAuthStateRow | undefined, userId: string, now: Date): RefusalReason {
  if (!found) return "unknown";
  if (found.userId !== userId) return "foreign";
  if (found.usedAt) return "used";
  if (found.expiresAt <= now) return "expired";
  return "unknown"; // lost a race with a concurrent use of the same state
}

/** Another user's authorization request: not this caller's to complete (and left unspent). */
const notYours = () =>
  fail("not_found", "No authorization request of yours has this state; start the connection again.");

/** RFC 6749 §4.1.2.1 error codes are ASCII; anything else is recorded as a generic refusal. */
const oauthErrorCode = (e: string) => (/^[a-z_]{1,64}$/.test(e) ? e : "invalid_request");

/**
 * Spends the caller's own state and completes the connection. Another user's state answers 404
 * and stays unspent (its owner can still finish); a replayed, expired or unknown one answers 400
 * `invalid_state`. Every refusal is audited with the reason.
 */
export async function completeAuthorization(
  deps: ConnectionDeps,
  meta: RequestMeta,
  callerId: string,
  input: CallbackInput,
): Promise<ConnectionView> {
  const now = deps.now();
  const stateHash = await sha256Hex(input.state);
  const state = await consumeOAuthState(deps.db, stateHash, now, callerId);
  if (!state) {
    const found = await findOAuthState(deps.db, stateHash);
    const reason = whyRefused(found, callerId, now);
    await connectionAudit(deps.db, meta, now, {
      action: "connection.state_refused",
      outcome: "denied",
      // The state's owner sees the attempt in their security log; the caller is the actor.
      userId: found?.userId ?? callerId,
      actorId: callerId,
      connectionId: found?.connectionId ?? null,
      provider: found?.provider ?? null,
      details: { reason },
    });
    throw reason === "foreign" ? notYours() : invalidState();
  }

  const connection = await findConnection(deps.db, state.connectionId);
  if (!connection || connection.userId !== state.userId) throw invalidState();
  const audit = (action: string, outcome: "success" | "failure", details?: Record<string, unknown>) =>
    connectionAudit(deps.db, meta, now, {
      action,
      outcome,
      userId: state.userId,
      actorId: callerId,
      connectionId: connection.id,
      provider: connection.provider,
      details: { purpose: state.purpose, ...details },
    });
  const recordFailure = async (
    code: string,
    message: string | undefined,
    action: string,
    details: Record<string, unknown>,
  ) => {
    // The connection keeps its status (pending stays pending; a re-auth stays reauth_required).
    await deps.db.batch([
      updateUserConnection(deps.db, state.userId, connection.id, {
        lastErrorCode: code,
        lastErrorMessage: message ?? lastErrorMessage(code),
        lastErrorAt: now,
        updatedAt: now,
      }),
      audit(action, "failure", details),
    ]);
  };

  if (input.error !== undefined) {
    const error = oauthErrorCode(input.error);
    await recordFailure("authorization_denied", undefined, "connection.authorization_denied", { error });
    throw fail("authorization_denied", `The provider did not grant access (${error}).`);
  }

  const offered = deps.providers.get(state.provider);
  if (!offered) throw providerNotAvailable(deps.providers.list().map((p) => p.slug));

  let tokens: ProviderTokens;
  try {
    const verifier = await deps.config.encryption.keyring.decrypt(state.codeVerifierEnc, {
      userId: state.userId,
      connectionId: connection.id,
      field: verifierField(stateHash),
    });
    tokens = await offered.adapter.exchangeCode({
      code: input.code ?? "",
      codeVerifier: verifier,
      redirectUri: state.redirectUri,
    });
  } catch (err) {
    if (err instanceof KeyringError) {
      // Its key was retired while the request was in flight: the user simply starts again.
      deps.logger.warn("oauth state verifier does not decrypt", { code: err.code, connection_id: connection.id });
      throw invalidState();
    }
    if (!(err instanceof ProviderError)) throw err;
    deps.logger.warn("authorization code exchange failed", { connection_id: connection.id, ...failureDetails(err) });
    if (err.kind === "reauth_required") {
      // 400/401 from the token endpoint: a wrong PKCE verifier, a used or expired code (RFC 6749 §5.2).
      await recordFailure("authorization_failed", undefined, "connection.connect_failed", failureDetails(err));
      throw fail(
        "authorization_failed",
        "The provider refused the authorization code (expired, already used, or issued for another request). Start again.",
      );
    }
    const apiError = providerApiError(err);
    await recordFailure(apiError.code, apiError.detail, "connection.connect_failed", failureDetails(err));
    throw apiError;
  }

  const sealed = await sealTokens(
    deps.config.encryption.keyring,
    { userId: state.userId, connectionId: connection.id },
    tokens,
  );
  const [updated] = await deps.db.batch([
    updateUserConnection(deps.db, state.userId, connection.id, {
      ...sealed,
      status: "active",
      credentialsUpdatedAt: now,
      lastErrorCode: null,
      lastErrorMessage: null,
      lastErrorAt: null,
      consecutiveFailures: 0,
      cooldownUntil: null,
      reauthWarnedAt: null,
      // New credentials win over a refresh in flight with the old ones (its write needs the lease).
      refreshLockOwner: null,
      refreshLockUntil: null,
      // Due at the scheduler's next tick (within 5 minutes): a reauthorized connection must not
      // wait out the horizon its failed run pushed `next_sync_at` to.
      nextSyncAt: null,
      updatedAt: now,
    }),
    audit(state.purpose === "reauthorize" ? "connection.reauthorized" : "connection.connected", "success", {
      credentials_expire_at: tokens.refreshTokenExpiresAt?.toISOString() ?? null,
    }),
  ]);
  const row = updated[0];
  if (!row) throw invalidState(); // deleted while we exchanged the code
  return connectionView(row, now, deps.config.providers.reauthWarningMs);
}
