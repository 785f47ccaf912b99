/**
 * The per-user transaction change feed (docs/contract.md "Providers, connections and data", after
 * Plaid's /transactions/sync). Every insert, change and removal of a user's transaction takes the
 * next number of one sequence kept in their home object and written in the same transaction
 * (./store.ts), so a page never sees a mutation midway; a cursor is the last number a
 * client has seen. Replaying from any cursor converges: each changed row is reported
 * once, in its latest state (`added` when created after the cursor, else `modified`), and each
 * removal as `removed` (an id the client never had is simply ignored by it).
 */

import type { z } from "zod";
import type { FeedPage as FeedPageSchema } from "../../wire/data";
import type { ReconciliationNotice, RemovalRow, TransactionRow } from "./rows";
import { transactionView } from "./views";

/** Feed cursors read `f1.` and the base64 of the last sequence number seen. */
export const FEED_CURSOR_PREFIX = "f1.";

export function encodeFeedCursor(seq: number): string {
  return FEED_CURSOR_PREFIX + btoa(String(seq)).replace(/=+$/, "");
}

/** The wire shape of a page (src/wire/data.ts). */
export type FeedPage = z.infer<typeof FeedPageSchema>;

/** Shapes a page, in the user's home, from the rows after `after` (`count + 1` of each kind). */
export function feedPage(
  answer: { changes: TransactionRow[]; removals: RemovalRow[]; notices: ReconciliationNotice[] },
  after: number,
  count: number,
): FeedPage {
  const merged = [
    ...answer.changes.map((row) => ({ seq: row.changeSeq, row, removal: null, notice: null })),
    ...answer.removals.map((removal) => ({ seq: removal.seq, row: null, removal, notice: null })),
    ...answer.notices.map((notice) => ({ seq: notice.seq, row: null, removal: null, notice })),
  ].sort((a, b) => a.seq - b.seq);
  const page = merged.slice(0, count);
  const out: FeedPage = {
    added: [],
    modified: [],
    removed: [],
    reconciliation: [],
    next_cursor: encodeFeedCursor(page.at(-1)?.seq ?? after),
    has_more: merged.length > count,
  };
  for (const item of page) {
    if (item.row) (item.row.createdSeq > after ? out.added : out.modified).push(transactionView(item.row));
    else if (item.removal) out.removed.push({ id: item.removal.transactionId, account_id: item.removal.accountId });
    else if (item.notice) {
      const n = item.notice;
      out.reconciliation.push({
        account_id: n.accountId,
        at: n.at.toISOString(),
        status: n.status,
        difference: n.difference,
        since: n.since?.toISOString() ?? null,
      });
    }
  }
  return out;
}
