/**
 * Reading the provider: a usable access token, the accounts (with balances and holdings) and,
 * per account, the transactions of its window. Everything is fetched before anything is
 * written, so a failure at any call changes nothing.
 */
import type { ConnectionRow } from "../../db/connections";
import { fail } from "../../errors";
import type { AnsweredAccount } from "../../home/ledger/plan";
import { type ProviderAdapter, ReauthRequiredError } from "../../providers/types";
import { freshAccessToken } from "../connections/token-refresh";
import type { SyncDeps } from "./deps";
import { EmptyAnswerError } from "./failures";

/**
 * The window of one account: a known account fetches from its connection's last success minus
 * the overlap (late-posting items, pending → posted); a first sync or a newly listed account
 * fetches the whole history.
 */
export function windowStart(known: boolean, lastSyncedAt: Date | null, now: Date, deps: Pick<SyncDeps, "config">) {
  const { historyMs, overlapMs } = deps.config.sync;
  const full = now.getTime() - historyMs;
  if (!known || !lastSyncedAt) return new Date(full);
  return new Date(Math.max(full, lastSyncedAt.getTime() - overlapMs));
}

async function readAll(
  adapter: ProviderAdapter,
  token: string,
  knownAccounts: string[],
  lastSyncedAt: Date | null,
  now: Date,
  deps: SyncDeps,
): Promise<AnsweredAccount[]> {
  const accounts = await adapter.accounts(token);
  if (accounts.length === 0) throw new EmptyAnswerError("the provider listed no accounts");
  const known = new Set(knownAccounts);
  const out: AnsweredAccount[] = [];
  for (const account of accounts) {
    const since = windowStart(known.has(account.providerAccountId), lastSyncedAt, now, deps);
    const transactions = await adapter.transactions(token, account.providerAccountId, { start: since, end: now });
    out.push({ account, transactions, since });
  }
  return out;
}

/**
 * Fetches the connection's answer. `refreshFirst` starts with a refresh grant (a run's first
 * attempt does: it proves the grant is alive, so a revoked one is found now rather than when
 * the access token lapses). A 401 on a data call with a token this call did not just get is
 * answered by one forced refresh and one more try; a second refusal means re-authorization.
 */
export async function fetchAnswer(
  deps: SyncDeps,
  row: ConnectionRow,
  knownAccounts: string[],
  now: Date,
  refreshFirst: boolean,
): Promise<AnsweredAccount[]> {
  const offered = deps.providers.get(row.provider);
  if (!offered) throw fail("provider_error", "This connection's provider is not offered here.");
  let creds = await freshAccessToken(deps, null, row.id, { force: refreshFirst });
  try {
    return await readAll(offered.adapter, creds.accessToken, knownAccounts, row.lastSyncedAt, now, deps);
  } catch (err) {
    if (!(err instanceof ReauthRequiredError) || creds.refreshed !== null) throw err;
    creds = await freshAccessToken(deps, null, row.id, { force: true });
    return readAll(offered.adapter, creds.accessToken, knownAccounts, row.lastSyncedAt, now, deps);
  }
}
