/**
 * The snapshot every adapter offers (types.ts `SnapshotSource`), built for adapters that list
 * accounts and then read each account's transactions separately (Schwab and its sandbox).
 */
import type { DateRange, ProviderAccount, ProviderSnapshot, ProviderTransaction, SnapshotWindow } from "./types";

/** The two reads a per-account adapter has. */
export interface AccountsAndTransactions {
  accounts(credential: string): Promise<ProviderAccount[]>;
  transactions(credential: string, accountRef: string, range: DateRange): Promise<ProviderTransaction[]>;
}

/**
 * accounts(), then transactions() per account over `[startFor(account), end]`, one after the
 * other (a provider's per-app rate limit is shared). No warnings, no quota.
 */
export async function snapshotFromAccounts(
  source: AccountsAndTransactions,
  credential: string,
  window: SnapshotWindow,
): Promise<ProviderSnapshot> {
  const accounts = await source.accounts(credential);
  const out: ProviderSnapshot["accounts"] = [];
  for (const account of accounts) {
    const since = window.startFor(account.providerAccountId);
    const transactions = await source.transactions(credential, account.providerAccountId, {
      start: since,
      end: window.end,
    });
    out.push({ account, transactions, since });
  }
  return { accounts: out, warnings: [], quota: null };
}

/** A window with one start for every account (tests, first syncs). */
export function fixedWindow(start: Date, end: Date): SnapshotWindow {
  return { end, startFor: () => start };
}
