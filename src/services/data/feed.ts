/**
 * The per-user transaction change feed (docs/contract.md "Providers, connections and data", after
 * Plaid's /transactions/sync). Every insert, change and removal of a user's transaction takes the
 * next number of one sequence kept in their home object and written in the same transaction
 * (src/ledger/store.ts), so a page never sees a mutation midway; a cursor is the last number a
 * client has seen. Replaying from any cursor converges: each changed row is reported
 * once, in its latest state (`added` when created after the cursor, else `modified`), and each
 * removal as `removed` (an id the client never had is simply ignored by it).
 */
import { fail } from "../../errors";
import type { RemovalRow, TransactionRow } from "../../ledger/rows";
import { type TransactionView, transactionView } from "./views";

const PREFIX = "f1.";

export function encodeFeedCursor(seq: number): string {
  return PREFIX + btoa(String(seq)).replace(/=+$/, "");
}

/** The sequence number in a cursor; 0 (the beginning) when none is given. */
export function decodeFeedCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === "") return 0;
  try {
    if (!cursor.startsWith(PREFIX)) throw new Error("prefix");
    const text = atob(cursor.slice(PREFIX.length));
    if (!/^\d{1,15}$/.test(text)) throw new Error("digits");
    return Number(text);
  } catch {
    throw fail("validation_failed", "The cursor is not one this API issued.", {
      errors: [{ path: "query.cursor", message: "is not a valid cursor" }],
    });
  }
}

export interface FeedPage {
  added: TransactionView[];
  modified: TransactionView[];
  removed: { id: string; account_id: string }[];
  next_cursor: string;
  has_more: boolean;
}

/** Shapes a page, in the user's home, from the rows after `after` (`count + 1` of each kind). */
export function feedPage(
  answer: { changes: TransactionRow[]; removals: RemovalRow[] },
  after: number,
  count: number,
): FeedPage {
  const merged = [
    ...answer.changes.map((row) => ({ seq: row.changeSeq, row, removal: null })),
    ...answer.removals.map((removal) => ({ seq: removal.seq, row: null, removal })),
  ].sort((a, b) => a.seq - b.seq);
  const page = merged.slice(0, count);
  const out: FeedPage = {
    added: [],
    modified: [],
    removed: [],
    next_cursor: encodeFeedCursor(page.at(-1)?.seq ?? after),
    has_more: merged.length > count,
  };
  for (const item of page) {
    if (item.row) (item.row.createdSeq > after ? out.added : out.modified).push(transactionView(item.row));
    else if (item.removal) out.removed.push({ id: item.removal.transactionId, account_id: item.removal.accountId });
  }
  return out;
}
