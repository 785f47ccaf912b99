/**
 * What an authenticated read asks of the user's home object, answered in the same call as the
 * Gate's questions (revoked? version ok? rate ok?): one hop for a user reading their own data.
 */
import type { PublicUser } from "../services/identity/users";
import type { HoldingRow, RemovalRow, SyncRunRow, TransactionRow } from "./rows";
import type { Runs } from "./runs";
import type { AccountWithSync, Ledger } from "./store";

export type LedgerRead =
  | { kind: "profile" }
  | { kind: "accounts"; connectionId?: string | undefined }
  | { kind: "account"; id: string }
  | { kind: "holdings"; accountId: string }
  | {
      kind: "transactions";
      accountId: string;
      from?: number | undefined;
      to?: number | undefined;
      limit: number;
      after?: { at: number; id: string } | undefined;
    }
  | { kind: "feed"; after: number; limit: number }
  | { kind: "runs"; connectionId: string; limit: number; after?: { at: number; id: string } | undefined };

/** The answer of each read; `null` where the thing is not this user's (or not here yet). */
export type LedgerAnswer =
  | { kind: "profile"; profile: PublicUser | null; epoch: number }
  | { kind: "accounts"; accounts: AccountWithSync[] | null }
  | { kind: "account"; account: AccountWithSync | null }
  | { kind: "holdings"; account: AccountWithSync | null; holdings: HoldingRow[] }
  | { kind: "transactions"; account: AccountWithSync | null; transactions: TransactionRow[] }
  | { kind: "feed"; changes: TransactionRow[]; removals: RemovalRow[] }
  | { kind: "runs"; known: boolean; runs: SyncRunRow[] };

export function readLedger(
  ledger: Ledger,
  runs: Runs,
  cached: () => { profile: PublicUser | null; epoch: number },
  read: LedgerRead,
): LedgerAnswer {
  switch (read.kind) {
    case "profile":
      return { kind: "profile", ...cached() };
    case "accounts":
      // A connection this user's ledger does not know answers as not theirs; the route decides.
      if (read.connectionId !== undefined && !ledger.hasConnection(read.connectionId)) {
        return { kind: "accounts", accounts: null };
      }
      return { kind: "accounts", accounts: ledger.accounts(read.connectionId) };
    case "account":
      return { kind: "account", account: ledger.account(read.id) };
    case "holdings": {
      const account = ledger.account(read.accountId);
      return { kind: "holdings", account, holdings: account ? ledger.holdings(read.accountId) : [] };
    }
    case "transactions": {
      const account = ledger.account(read.accountId);
      const { kind: _, accountId, ...window } = read;
      return { kind: "transactions", account, transactions: account ? ledger.transactions(accountId, window) : [] };
    }
    case "feed":
      return { kind: "feed", ...ledger.feed(read.after, read.limit) };
    case "runs":
      return {
        kind: "runs",
        known: ledger.hasConnection(read.connectionId),
        runs: runs.list(read.connectionId, read.limit, read.after),
      };
  }
}
