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
import { consumeOAuthState, findOAuthState, type OAuthStateRow, unspendOAuthState } from "../../db/oauth-states";
import { fail } from "../../errors";
import type { OfferedProvider } from "../../providers/registry";
import { ProviderError } from "../../providers/types";
import type { RequestMeta } from "../context";
import { connectionAudit } from "./audit";
import { offeredProvider } from "./authorize";
import { type Credentials, freshCredentialsPatch, sealCredentials, verifierField } from "./credentials";
import type { ConnectionDeps } from "./deps";
import { failureDetails, invalidState, providerApiError } from "./errors";
import { lastErrorMessage } from "./last-error";
import { revokeConsent, withdrawRequisitions } from "./revoke";
import { type ConnectionView, connectionView } from "./view";

/** What came back from the provider (query of the GET callback, or the POST body). */
export interface CallbackInput {
  state: string;
  code?: string;
  /** RFC 6749 §4.1.2.1 error redirect, e.g. `access_denied`. */
  error?: string;
}

type RefusalReason = "unknown" | "used" | "expired" | "foreign" | "consent_proof";

function whyRefused(
  found: OAuthStateRow | undefined,
  userId: string,
  now: Date,
  proofHash: string | undefined,
): RefusalReason {
  if (!found) return "unknown";
  if (found.userId !== userId) return "foreign";
  if (found.usedAt) return "used";
  if (found.expiresAt <= now) return "expired";
  if (proofHash !== undefined && found.referenceHash !== null && found.referenceHash !== proofHash) {
    return "consent_proof";
  }
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
  // A bank consent completes only with the proof its reference carried back from the bank: its
  // initiator knows the state alone, so a consent someone else gave cannot be taken
  // (docs/security.md). Without it the state is not spent: the real hand-off can still complete.
  // (An error the bank sent back spends it as any refusal does: it grants nothing.)
  const proofHash = input.error === undefined ? await sha256Hex(input.code ?? "") : undefined;
  const state = await consumeOAuthState(deps.db, stateHash, now, callerId, proofHash);
  if (!state) {
    const found = await findOAuthState(deps.db, stateHash);
    const reason = whyRefused(found, callerId, now, proofHash);
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
    if (reason === "consent_proof") {
      throw fail(
        "authorization_failed",
        "This completion does not carry the bank's answer: complete it with the hand-off the browser that came back from the bank received.",
      );
    }
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

  let obtained: Obtained;
  try {
    const secret = await deps.config.encryption.keyring.decrypt(state.codeVerifierEnc, {
      userId: state.userId,
      connectionId: connection.id,
      field: verifierField(stateHash),
    });
    obtained = await obtainCredentials(
      offeredProvider(deps, state.provider),
      secret,
      input.code ?? "",
      state.redirectUri,
    );
  } catch (err) {
    if (err instanceof KeyringError) {
      // Its key was retired while the request was in flight: the user simply starts again.
      deps.logger.warn("oauth state verifier does not decrypt", { code: err.code, connection_id: connection.id });
      throw invalidState();
    }
    if (err instanceof ConsentNotGivenError && CONSENT_UNDER_WAY.has(err.status)) {
      // Not an answer yet: the person is still at the bank. The state stays usable.
      await unspendOAuthState(deps.db, stateHash);
      throw fail(
        "connection_not_ready",
        `The bank has not confirmed the consent yet (requisition ${err.status}); finish at the bank, then complete again.`,
      );
    }
    if (err instanceof ConsentNotGivenError) {
      await recordFailure("authorization_denied", undefined, "connection.authorization_denied", {
        requisition_status: err.status,
      });
      throw fail(
        "authorization_denied",
        `The bank did not confirm the consent (requisition ${err.status}); start again.`,
      );
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

  const sealed = await sealCredentials(
    deps.config.encryption.keyring,
    { userId: state.userId, connectionId: connection.id },
    obtained.credentials,
  );
  const [updated] = await deps.db.batch([
    updateUserConnection(deps.db, state.userId, connection.id, {
      ...sealed,
      ...freshCredentialsPatch(now),
      consentExpiresAt: obtained.consentExpiresAt,
    }),
    audit(state.purpose === "reauthorize" ? "connection.reauthorized" : "connection.connected", "success", {
      credentials_expire_at: obtained.credentials.refreshTokenExpiresAt?.toISOString() ?? null,
      consent_expires_at: obtained.consentExpiresAt?.toISOString() ?? null,
    }),
  ]);
  const row = updated[0];
  if (!row) {
    // Deleted while we asked the provider: a bank consent just linked goes too (./revoke.ts).
    deps.defer(withdrawRequisitions(deps, state.provider, [obtained.credentials.credential]));
    throw invalidState();
  }
  // A reauthorized bank consent replaces the old one: withdraw that at the bank (./revoke.ts).
  if (state.purpose === "reauthorize") deps.defer(revokeConsent(deps, connection));
  return connectionView(row, now, deps.config.providers);
}

/**
 * Requisition statuses of a consent still under way (docs/providers/gocardless.md: created, giving
 * consent, undergoing authentication, selecting accounts, granting access); RJ and EX are answers.
 */
const CONSENT_UNDER_WAY = new Set(["CR", "GC", "UA", "SA", "GA"]);

/** The person came back from their bank without a linked requisition (declined, expired, or unfinished). */
class ConsentNotGivenError extends Error {
  constructor(readonly status: string) {
    super(`requisition status ${status}`);
  }
}

/** Credentials from a completed link, and when the person's consent ends (if it does). */
interface Obtained {
  credentials: Credentials;
  consentExpiresAt: Date | null;
}

/**
 * Turns the flow's secret into credentials, per kind of link: an OAuth code exchange (Schwab's
 * refresh token carries the 7-day consent; Alpaca's token neither expires nor refreshes), or a
 * linked requisition (its id is the credential; the agreement says when the consent ends).
 */
async function obtainCredentials(
  offered: OfferedProvider,
  secret: string,
  code: string,
  redirectUri: string,
): Promise<Obtained> {
  const link = offered.link;
  if (link.kind === "bank_consent") {
    const consent = await link.adapter.completeConsent(secret);
    if (consent.status !== "LN") throw new ConsentNotGivenError(consent.status);
    return {
      credentials: { credential: secret, refreshToken: null, expiresAt: null, refreshTokenExpiresAt: null },
      consentExpiresAt: consent.consentExpiresAt,
    };
  }
  if (link.kind !== "oauth2") throw new Error(`${offered.info.slug} does not link through a redirect`);
  const grant = await link.adapter.exchangeCode({ code, codeVerifier: secret, redirectUri });
  const credential = "credential" in grant ? grant.credential : grant.accessToken;
  return {
    credentials: {
      credential,
      refreshToken: grant.refreshToken,
      expiresAt: grant.accessTokenExpiresAt,
      refreshTokenExpiresAt: grant.refreshTokenExpiresAt,
    },
    // Schwab's consent is its refresh token's 7 days, kept as `refreshTokenExpiresAt`.
    consentExpiresAt: null,
  };
}
