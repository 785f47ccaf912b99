/**
 * A user's synced accounts, holdings and transactions, shaped for the API from what their home
 * object answered (src/home/ledger/reads.ts). Others' data is 404, like missing data.
 */
import { findUserConnection } from "../../db/connections";
import type { Deps } from "../../deps";
import { invalidField, notFound } from "../../errors";
import type { HomeRead, ReadOf } from "../../home/ledger/reads";
import { accountView, holdingView } from "../../home/ledger/views";
import type { JsonText } from "../../wire/json-text";
import { decodeCursor } from "../cursor";

/**
 * The user's accounts, optionally of one of their connections. The home holds only this user's
 * data, so accounts it answers are theirs; when it holds none for the connection, D1 (the only
 * owner of connections) says whether the connection is theirs at all (else 404).
 */
export async function accountsList(
  deps: Pick<Deps, "db">,
  userId: string,
  answer: ReadOf<"accounts">,
  connectionId: string | undefined,
) {
  if (connectionId !== undefined && answer.accounts.length === 0) {
    if (!(await findUserConnection(deps.db, userId, connectionId))) throw notFound("connection");
  }
  return { accounts: answer.accounts.map((r) => accountView(r.account, r.lastSyncedAt)) };
}

export function accountOne(answer: ReadOf<"account">) {
  if (!answer.account) throw notFound("account");
  return accountView(answer.account.account, answer.account.lastSyncedAt);
}

export function holdingsOf(answer: ReadOf<"holdings">) {
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
): Extract<HomeRead, { kind: "transactionsPage" }> {
  const from = bound(q.from, false);
  const to = bound(q.to, true);
  if (from !== undefined && to !== undefined && from > to) {
    throw invalidField("query.from", "must not be after `to`");
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

/** The page the home serialised, `{ transactions, next_cursor }`; an account it does not hold is 404. */
export function transactionsPage(answer: ReadOf<"transactionsPage">): JsonText<TransactionsPageOf<typeof answer>> {
  if (!answer.found) throw notFound("account");
  return answer.page;
}

type TransactionsPageOf<A> = A extends { page: JsonText<infer T> } ? T : never;
