/**
 * A user's synced accounts, holdings and transactions, shaped for the API from what their home
 * object answered (src/ledger/reads.ts). Others' data is 404, like missing data.
 */
import { fail, notFound } from "../../errors";
import type { LedgerAnswer, LedgerRead } from "../../ledger/reads";
import { isOwnConnection } from "../connections/known";
import { decodeCursor, encodeCursor } from "../cursor";
import { accountView, holdingView } from "./views";

type Answer<K extends LedgerAnswer["kind"]> = Extract<LedgerAnswer, { kind: K }>;

/** The user's accounts, optionally of one of their connections (another user's: 404). */
export async function accountsList(
  deps: Parameters<typeof isOwnConnection>[0],
  userId: string,
  answer: Answer<"accounts">,
  connectionId: string | undefined,
) {
  if (!answer.accounts) {
    if (connectionId === undefined || !(await isOwnConnection(deps, userId, connectionId))) {
      throw notFound("connection");
    }
    return { accounts: [] };
  }
  return { accounts: answer.accounts.map((r) => accountView(r.account, r.lastSyncedAt)) };
}

export function accountOne(answer: Answer<"account">) {
  if (!answer.account) throw notFound("account");
  return accountView(answer.account.account, answer.account.lastSyncedAt);
}

export function holdingsOf(answer: Answer<"holdings">) {
  if (!answer.account) throw notFound("account");
  const { account, lastSyncedAt } = answer.account;
  return { holdings: answer.holdings.map((h) => holdingView(h, account, lastSyncedAt)) };
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY = 86_400_000;

/** `YYYY-MM-DD` or an RFC 3339 timestamp; a bare `to` date includes its whole (UTC) day. */
function bound(value: string | undefined, end: boolean): number | undefined {
  if (value === undefined) return undefined;
  const at = new Date(DATE_ONLY.test(value) ? `${value}T00:00:00.000Z` : value).getTime();
  return DATE_ONLY.test(value) && end ? at + DAY - 1 : at;
}

/** The read for one account's transactions, newest first, in [from, to], keyset pages of `limit`. */
export function transactionsRead(
  accountId: string,
  q: { from?: string; to?: string; limit: number; cursor?: string },
): Extract<LedgerRead, { kind: "transactionsPage" }> {
  const from = bound(q.from, false);
  const to = bound(q.to, true);
  if (from !== undefined && to !== undefined && from > to) {
    throw fail("validation_failed", "The request did not pass validation.", {
      errors: [{ path: "query.from", message: "must not be after `to`" }],
    });
  }
  const after = decodeCursor(q.cursor);
  return {
    kind: "transactionsPage",
    accountId,
    from,
    to,
    pageSize: q.limit,
    after: after ? { at: after.at.getTime(), id: after.id } : undefined,
  };
}

/** The page's JSON body, `{ transactions, next_cursor }`, around the array the home serialised. */
export function transactionsPageJson(answer: Answer<"transactionsPage">): string {
  if (!answer.found) throw notFound("account");
  const next = answer.next ? encodeCursor(new Date(answer.next.at), answer.next.id) : null;
  return `{"transactions":${answer.page},"next_cursor":${JSON.stringify(next)}}`;
}
