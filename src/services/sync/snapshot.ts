/**
 * Reading the provider: a usable credential, then the connection's whole snapshot (accounts with
 * balances and holdings, each account's transactions over its window, and any warnings).
 * Everything is fetched before anything is written, so a failure at any call changes nothing.
 */

import type { ConnectionRow } from "../../db/connections";
import type { ProviderWarningView } from "../../db/schema";
import { fail } from "../../errors";
import { type ProviderSnapshot, ReauthRequiredError, type SnapshotWindow } from "../../providers/types";
import { freshAccessToken } from "../connections/token-refresh";
import { jobMeta } from "../context";
import { cadenceOf } from "./config";
import type { SyncDeps } from "./deps";
import { EmptyAnswerError } from "./failures";

/**
 * The window of one account: a known account fetches from its connection's last success minus
 * the overlap (late-posting items, pending → posted); a first sync or a newly listed account
 * fetches the whole history.
 */
export function windowStart(
  known: boolean,
  lastSyncedAt: Date | null,
  now: Date,
  deps: Pick<SyncDeps, "config">,
  historyMs = deps.config.sync.historyMs,
) {
  const { overlapMs } = deps.config.sync;
  const full = now.getTime() - historyMs;
  if (!known || !lastSyncedAt) return new Date(full);
  return new Date(Math.max(full, lastSyncedAt.getTime() - overlapMs));
}

/** The snapshot window of a connection whose home knows `knownAccounts`. */
export function syncWindow(
  deps: Pick<SyncDeps, "config">,
  knownAccounts: string[],
  lastSyncedAt: Date | null,
  now: Date,
  historyMs?: number,
): SnapshotWindow {
  const known = new Set(knownAccounts);
  return { end: now, startFor: (id) => windowStart(known.has(id), lastSyncedAt, now, deps, historyMs) };
}

/**
 * Fetches the connection's snapshot. `refreshFirst` starts with a refresh grant where the
 * provider has one (a run's first attempt does: it proves the grant is alive, so a revoked one is
 * found now rather than when the access token lapses). A 401 on a data call with a token this
 * call did not just get is answered by one forced refresh and one more try; a second refusal
 * means re-authorization. Credentials that never refresh are used as stored.
 */
export async function fetchAnswer(
  deps: SyncDeps,
  row: ConnectionRow,
  knownAccounts: string[],
  now: Date,
  refreshFirst: boolean,
): Promise<ProviderSnapshot> {
  const offered = deps.providers.get(row.provider);
  if (!offered) throw fail("provider_error", "This connection's provider is not offered here.");
  // Up to the provider's now: the sandboxes' clock may run ahead of ours.
  const { historyMs } = cadenceOf(deps.config.sync, row.provider);
  const window = syncWindow(deps, knownAccounts, row.lastSyncedAt, offered.clock?.() ?? now, historyMs);
  const read = async (credential: string) => {
    const snapshot = await offered.source.snapshot(credential, window);
    if (snapshot.accounts.length === 0) throw new EmptyAnswerError("the provider listed no accounts");
    return snapshot;
  };
  // The lease's row is the first look: no second read of it.
  let creds = await freshAccessToken(deps, jobMeta(deps), row.id, { force: refreshFirst, known: row });
  try {
    return await read(creds.accessToken);
  } catch (err) {
    const canRefresh = creds.connection.refreshTokenEnc !== null;
    if (!(err instanceof ReauthRequiredError) || creds.refreshed !== null || !canRefresh) throw err;
    creds = await freshAccessToken(deps, jobMeta(deps), row.id, { force: true });
    return read(creds.accessToken);
  }
}

/** The warnings a connection keeps until its next success: at most 20, deduplicated. */
export function warningsOf(snapshot: ProviderSnapshot): ProviderWarningView[] {
  const seen = new Map<string, ProviderWarningView>();
  for (const w of snapshot.warnings) {
    const view = { code: w.code, message: w.message, reauth: w.reauth === true };
    seen.set(`${view.code}\n${view.message}`, view);
  }
  return [...seen.values()].slice(0, 20);
}
