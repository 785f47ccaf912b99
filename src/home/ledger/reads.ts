/**
 * What an authenticated read asks of the user's home object, answered in the same call as the
 * authorization (revoked? version ok? rate ok?): one hop for a user reading their own data. The
 * home holds only this user's data, so whatever it answers is theirs; whether an id it does not
 * hold is someone else's is the directory's (D1's) to say, off this path.
 */
import type { z } from "zod";
import { encodeCursor } from "../../wire/cursor";
import type { BalancesPage as BalancesPageSchema, TransactionsPage as TransactionsPageSchema } from "../../wire/data";
import { type JsonText, jsonOf } from "../../wire/json-text";
import type { PublicUser } from "../profile";
import { type FeedPage, feedPage } from "./feed";
import type { BalanceHistory } from "./history";
import { type NetWorthInterval, type NetWorthView, netWorth } from "./net-worth";
import type { HoldingRow, SyncRunRow, TransactionRow } from "./rows";
import type { Runs } from "./run-store";
import type { AccountWithSync, Ledger } from "./store";
import { balancePointView, encodeDayCursor, transactionView } from "./views";

/** A window of one account's transactions, newest first, keyset-paginated on (date, id). */
interface TransactionWindow {
  accountId: string;
  from?: number | undefined;
  to?: number | undefined;
  after?: { at: number; id: string } | undefined;
}

export type HomeRead =
  | { kind: "profile" }
  | { kind: "accounts"; connectionId?: string | undefined }
  | { kind: "account"; id: string }
  | { kind: "holdings"; accountId: string }
  | ({ kind: "transactions"; limit: number } & TransactionWindow)
  | ({ kind: "transactionsPage"; pageSize: number } & TransactionWindow)
  | { kind: "feed"; after: number; count: number }
  | {
      kind: "balances";
      accountId: string;
      from?: string | undefined;
      to?: string | undefined;
      afterDay?: string | undefined;
      limit: number;
    }
  | { kind: "netWorth"; from: string; to: string; interval: NetWorthInterval }
  | { kind: "runs"; connectionId: string; limit: number; after?: { at: number; id: string } | undefined };

/** The wire shape of a page of balance points. */
export type BalancesPage = z.infer<typeof BalancesPageSchema>;

/** The wire shape of a page of transactions (src/wire/data.ts). */
export type TransactionsPage = z.infer<typeof TransactionsPageSchema>;

/** The answer of each read; `null` or empty where the home holds nothing of that id. */
export type ReadAnswer =
  | { kind: "profile"; profile: PublicUser | null; epoch: number }
  | { kind: "accounts"; accounts: AccountWithSync[] }
  | { kind: "account"; account: AccountWithSync | null }
  | { kind: "holdings"; account: AccountWithSync | null; holdings: HoldingRow[] }
  | { kind: "transactions"; account: AccountWithSync | null; transactions: TransactionRow[] }
  /** The page leaves the home as the JSON it is served as. */
  | { kind: "transactionsPage"; found: boolean; page: JsonText<TransactionsPage> }
  | { kind: "feed"; page: JsonText<FeedPage> | null }
  | { kind: "balances"; found: boolean; page: JsonText<BalancesPage> }
  | { kind: "netWorth"; page: JsonText<NetWorthView> }
  | { kind: "runs"; runs: SyncRunRow[] };

/** The answer of one kind of read. */
export type ReadOf<K extends HomeRead["kind"]> = Extract<ReadAnswer, { kind: K }>;

export function readLedger(
  ledger: Ledger,
  history: BalanceHistory,
  runs: Runs,
  cached: () => { profile: PublicUser | null; epoch: number },
  read: HomeRead,
): ReadAnswer {
  switch (read.kind) {
    case "profile":
      return { kind: "profile", ...cached() };
    case "accounts":
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
      // One string crosses the RPC instead of a structured clone of every row, and the Worker
      // does not serialise it again (measured, bench/README.md).
      const { kind: _, accountId, pageSize, ...window } = read;
      // One more than asked: its presence says there is a next page.
      const rows = ledger.transactions(accountId, { ...window, limit: pageSize + 1 });
      // A transaction is only ever stored (and deleted) with its account, so only an empty page
      // needs asking whether the account is there at all (one statement fewer per page).
      if (rows.length === 0 && !ledger.hasAccount(accountId)) {
        return {
          kind: "transactionsPage",
          found: false,
          page: jsonOf<TransactionsPage>({ transactions: [], next_cursor: null }),
        };
      }
      const page = rows.slice(0, pageSize);
      const last = page.at(-1);
      const next = rows.length > pageSize && last ? encodeCursor(last.date, last.id) : null;
      return {
        kind: "transactionsPage",
        found: true,
        page: jsonOf<TransactionsPage>({ transactions: page.map(transactionView), next_cursor: next }),
      };
    }
    case "feed":
      // A cursor past the last number handed out was never issued (or a restore rewound the feed):
      // null, which the API refuses, so the client starts over rather than skip what comes next.
      if (read.after > ledger.feedSeq()) return { kind: "feed", page: null };
      // One more of each kind than asked: their presence says there is more.
      return { kind: "feed", page: jsonOf(feedPage(ledger.feed(read.after, read.count + 1), read.after, read.count)) };
    case "runs":
      return { kind: "runs", runs: runs.list(read.connectionId, read.limit, read.after) };
    case "balances": {
      const { kind: _, accountId, limit, ...window } = read;
      const rows = history.page(accountId, { ...window, limit: limit + 1 });
      if (rows.length === 0 && !ledger.hasAccount(accountId)) {
        return { kind: "balances", found: false, page: jsonOf<BalancesPage>({ balances: [], next_cursor: null }) };
      }
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        kind: "balances",
        found: true,
        page: jsonOf<BalancesPage>({
          balances: page.map(balancePointView),
          next_cursor: rows.length > limit && last ? encodeDayCursor(last.day) : null,
        }),
      };
    }
    case "netWorth": {
      const inputs = history.worthInputs(read.from, read.to, read.interval);
      return { kind: "netWorth", page: jsonOf(netWorth(inputs.accounts, inputs.history, read)) };
    }
  }
}
