/**
 * What an authenticated read asks of the user's home object, answered in the same call as the
 * Gate's questions (revoked? version ok? rate ok?): one hop for a user reading their own data.
 */
import { feedPage } from "../services/data/feed";
import { transactionView } from "../services/data/views";
import type { PublicUser } from "../services/identity/users";
import type { HoldingRow, SyncRunRow, TransactionRow } from "./rows";
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
  | {
      kind: "transactionsPage";
      accountId: string;
      from?: number | undefined;
      to?: number | undefined;
      pageSize: number;
      after?: { at: number; id: string } | undefined;
    }
  | { kind: "feed"; after: number; count: number }
  | { kind: "runs"; connectionId: string; limit: number; after?: { at: number; id: string } | undefined };

/** The answer of each read; `null` where the thing is not this user's (or not here yet). */
export type LedgerAnswer =
  | { kind: "profile"; profile: PublicUser | null; epoch: number }
  | { kind: "accounts"; accounts: AccountWithSync[] | null }
  | { kind: "account"; account: AccountWithSync | null }
  | { kind: "holdings"; account: AccountWithSync | null; holdings: HoldingRow[] }
  | { kind: "transactions"; account: AccountWithSync | null; transactions: TransactionRow[] }
  /** `page`: the JSON array of the page's wire transactions; `next`: the last one's key, if more follow. */
  | { kind: "transactionsPage"; found: boolean; page: string; next: { at: number; id: string } | null }
  /** `page`: the page's JSON body (services/data/feed.ts), serialised here like a transactions page. */
  | { kind: "feed"; page: string }
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
    case "transactionsPage": {
      // The page leaves the home as the JSON it is served as: one string crosses the RPC instead
      // of a structured clone of every row, and the Worker does not serialise it again (measured,
      // bench/README.md).
      const { kind: _, accountId, pageSize, ...window } = read;
      // One more than asked: its presence says there is a next page.
      const rows = ledger.transactions(accountId, { ...window, limit: pageSize + 1 });
      // A transaction is only ever stored (and deleted) with its account, so only an empty page
      // needs asking whether the account is there at all (one statement fewer per page).
      if (rows.length === 0 && !ledger.hasAccount(accountId)) {
        return { kind: "transactionsPage", found: false, page: "[]", next: null };
      }
      const page = rows.slice(0, pageSize);
      const last = page.at(-1);
      return {
        kind: "transactionsPage",
        found: true,
        page: JSON.stringify(page.map(transactionView)),
        next: rows.length > pageSize && last ? { at: last.date.getTime(), id: last.id } : null,
      };
    }
    case "feed":
      // One more of each kind than asked: their presence says there is more.
      return {
        kind: "feed",
        page: JSON.stringify(feedPage(ledger.feed(read.after, read.count + 1), read.after, read.count)),
      };
    case "runs":
      return {
        kind: "runs",
        known: ledger.hasConnection(read.connectionId),
        runs: runs.list(read.connectionId, read.limit, read.after),
      };
  }
}
