/**
 * Provider access tokens, kept fresh (RFC 6749 §6). At most one refresh per connection runs at a
 * time: a caller must first take the connection's lease with one conditional UPDATE; the others
 * wait for it and then use what it stored. New tokens, the lease release and the audit row are
 * written in one D1 batch, so they land together or not at all.
 */
import { KeyringError } from "../../crypto/keyring";
import { randomToken } from "../../crypto/random";
import {
  acquireRefreshLease,
  type ConnectionRow,
  findConnection,
  flagReauthRequired,
  updateUnderLease,
} from "../../db/connections";
import { type DomainError, fail, notFound } from "../../errors";
import { applyRefresh, ProviderError, type RefreshResult, type RefreshTokenOutcome } from "../../providers/types";
import type { JobMeta, RequestMeta } from "../context";
import { connectionAudit } from "./audit";
import { openCredentials, openTokens, sealTokens } from "./credentials";
import type { ConnectionDeps } from "./deps";
import { failureDetails, notConnected, providerApiError, providerFailurePatch, reauthRequired } from "./errors";
import { lastErrorMessage } from "./last-error";

/** Refresh when less than this is left (Schwab access tokens live 30 minutes). */
export const REFRESH_SKEW_MS = 5 * 60_000;
/** How often a waiting caller looks again while another holds the lease. */
export const LEASE_POLL_MS = 100;

/** A usable access token and the connection row it came from. */
export interface FreshCredentials {
  accessToken: string;
  connection: ConnectionRow;
  /** What this call's refresh did with the refresh token; null when this call did not refresh. */
  refreshed: RefreshTokenOutcome | null;
}

const time = (d: Date | null) => d?.getTime() ?? 0;

/** The lease outlives the one provider call it covers (bounded by the total timeout) with room. */
const leaseMs = (deps: ConnectionDeps) => deps.config.providers.timeouts.totalMs * 2 + 5_000;

/**
 * Returns a usable access token for the connection, refreshing it first when it is within
 * REFRESH_SKEW_MS of expiry (or always, with `force`). Concurrent callers share one refresh.
 * `userId` scopes the lookup (API calls); jobs omit it. `known`: the row as the caller just read it
 * (a sync's lease answers it), so the first look costs no D1 round trip. Throws `not_found`, `reauth_required`,
 * `connection_not_ready`, or `provider_unavailable` / `provider_error` for provider failures.
 */
export async function freshAccessToken(
  deps: ConnectionDeps,
  meta: RequestMeta | JobMeta | null,
  connectionId: string,
  options: { userId?: string; force?: boolean; known?: ConnectionRow } = {},
): Promise<FreshCredentials> {
  const started = deps.now();
  const deadline = started.getTime() + leaseMs(deps) + 1_000;
  let seenCredentialsAt: number | null = null;
  let known = options.known?.id === connectionId ? options.known : undefined;

  for (;;) {
    const row = known ?? (await findConnection(deps.db, connectionId));
    known = undefined;
    if (!row || (options.userId !== undefined && row.userId !== options.userId)) throw notFound("connection");
    if (row.status === "reauth_required") throw reauthRequired();
    if (!row.accessTokenEnc) throw notConnected();
    // Credentials that never refresh (Alpaca's token, a GoCardless requisition, a SimpleFIN
    // access URL) are used as they are: the provider's refusal says when they stop working.
    if (!row.refreshTokenEnc) return reuse(deps, row);
    const now = deps.now();
    seenCredentialsAt ??= time(row.credentialsUpdatedAt);

    if (usable(row, now, seenCredentialsAt, options.force)) return reuse(deps, row);
    // Another caller's refresh failed while we waited: report its outcome rather than hammer the provider.
    if (row.lastErrorAt && row.lastErrorAt >= started && time(row.credentialsUpdatedAt) === seenCredentialsAt) {
      throw recordedFailure(row);
    }
    if (row.refreshTokenExpiresAt && row.refreshTokenExpiresAt <= now) {
      await expireCredentials(deps, meta, row, now);
      throw reauthRequired();
    }

    const owner = randomToken();
    const lease = await acquireRefreshLease(deps.db, connectionId, owner, now, new Date(now.getTime() + leaseMs(deps)));
    if (lease) {
      if (usable(lease, now, seenCredentialsAt, options.force)) {
        await updateUnderLease(deps.db, connectionId, owner, {}); // release: someone refreshed meanwhile
        return reuse(deps, lease);
      }
      return refreshUnderLease(deps, meta, lease, owner);
    }
    if (deps.now().getTime() > deadline) {
      throw fail("provider_unavailable", "A credential refresh is still in progress; try again.", {
        retryAfterSeconds: 5,
      });
    }
    await deps.sleep(LEASE_POLL_MS);
  }
}

/** Fresh enough, or refreshed by someone else since this call first looked. */
function usable(row: ConnectionRow, now: Date, seenCredentialsAt: number, force = false): boolean {
  if (time(row.credentialsUpdatedAt) > seenCredentialsAt) return true;
  return !force && time(row.accessTokenExpiresAt) > now.getTime() + REFRESH_SKEW_MS;
}

async function reuse(deps: ConnectionDeps, row: ConnectionRow): Promise<FreshCredentials> {
  const { credential } = await openCredentials(deps.config.encryption.keyring, row);
  return { accessToken: credential, connection: row, refreshed: null };
}

function recordedFailure(row: ConnectionRow): DomainError {
  if (row.lastErrorCode === "provider_unavailable" || row.lastErrorCode === "provider_rate_limited") {
    return fail("provider_unavailable", "The provider failed a moment ago; try again later.", {
      retryAfterSeconds: 30,
    });
  }
  return fail("provider_error", "The provider refused a moment ago; see the connection's last_error.");
}

/** The refresh token is past its lifetime (Schwab: 7 days): no point asking the provider. */
async function expireCredentials(
  deps: ConnectionDeps,
  meta: RequestMeta | JobMeta | null,
  row: ConnectionRow,
  now: Date,
) {
  await deps.db.batch([
    flagReauthRequired(deps.db, row.id, {
      lastErrorCode: "reauth_required",
      lastErrorMessage: lastErrorMessage("reauth_expired"),
      lastErrorAt: now,
      updatedAt: now,
    }),
    connectionAudit(deps.db, meta, now, {
      action: "connection.reauth_required",
      outcome: "failure",
      userId: row.userId,
      connectionId: row.id,
      provider: row.provider,
      details: { reason: "refresh_token_expired" },
    }),
  ]);
}

async function refreshUnderLease(
  deps: ConnectionDeps,
  meta: RequestMeta | JobMeta | null,
  row: ConnectionRow,
  owner: string,
): Promise<FreshCredentials> {
  const keyring = deps.config.encryption.keyring;
  const who = { userId: row.userId, connectionId: row.id, provider: row.provider };
  const link = deps.providers.get(row.provider)?.link;
  // Only OAuth providers that hand out refresh tokens refresh (Schwab); a row with a refresh
  // token of another provider is not ours to refresh.
  const refresher = link?.kind === "oauth2" && "refresh" in link.adapter ? link.adapter : null;
  if (!refresher) {
    await updateUnderLease(deps.db, row.id, owner, {});
    throw fail("provider_not_available", "This connection's provider is not offered at the moment.", {
      during: "existing_connection",
    });
  }
  let result: RefreshResult;
  let stored: Awaited<ReturnType<typeof openTokens>>;
  try {
    stored = await openTokens(keyring, row);
    result = await refresher.refresh(stored.refreshToken);
  } catch (err) {
    const now = deps.now();
    if (err instanceof ProviderError) {
      const patch = providerFailurePatch(err, row, now);
      const audits = [
        connectionAudit(deps.db, meta, now, {
          action: "connection.token_refresh_failed",
          outcome: "failure",
          ...who,
          details: failureDetails(err),
        }),
      ];
      if (patch.status === "reauth_required") {
        audits.push(
          connectionAudit(deps.db, meta, now, {
            action: "connection.reauth_required",
            outcome: "failure",
            ...who,
            details: { reason: "refresh_refused" },
          }),
        );
      }
      await deps.db.batch([updateUnderLease(deps.db, row.id, owner, patch), ...audits]);
      throw providerApiError(err);
    }
    await updateUnderLease(deps.db, row.id, owner, {});
    if (err instanceof KeyringError) {
      // A missing key or a tampered row: an operator problem, never a reason to ask the user.
      deps.logger.error("connection credentials do not decrypt", { connection_id: row.id, code: err.code });
      throw fail("unavailable", "This connection's credentials cannot be read; the operators were told.");
    }
    throw err;
  }

  const now = deps.now();
  const merged = applyRefresh(stored, result);
  const sealed = await sealTokens(keyring, who, merged);
  const [written] = await deps.db.batch([
    updateUnderLease(deps.db, row.id, owner, {
      ...sealed,
      credentialsUpdatedAt: now,
      // A working refresh clears provider trouble; a failed sync (later) sets it again.
      status: row.status === "error" ? "active" : row.status,
      lastErrorCode: null,
      lastErrorMessage: null,
      lastErrorAt: null,
      consecutiveFailures: 0,
      cooldownUntil: null,
      updatedAt: now,
    }),
    connectionAudit(deps.db, meta, now, {
      action: "connection.token_refreshed",
      outcome: "success",
      ...who,
      // docs/providers/schwab.md: whether the refresh token string changes is undocumented; record which happened.
      details: { refresh_token: result.refreshTokenOutcome },
    }),
  ]);
  if (written.length === 0) {
    // The lease was taken over (it outlived its term) or new credentials arrived by re-auth.
    deps.logger.warn("refreshed tokens not stored: lease lost", { connection_id: row.id });
  }
  const current = written[0] ?? (await findConnection(deps.db, row.id)) ?? row;
  return { accessToken: merged.accessToken, connection: current, refreshed: result.refreshTokenOutcome };
}
