/** Reading a user's synced accounts, holdings and transactions. Others' data is 404. */
import { findUserAccount, listAccountHoldings, listUserAccounts } from "../../db/accounts";
import type { Db } from "../../db/client";
import { findUserConnection } from "../../db/connections";
import { listAccountTransactions } from "../../db/transactions";
import { fail, notFound } from "../../errors";
import { decodeCursor, encodeCursor } from "../cursor";
import { accountView, holdingView, transactionView } from "./views";

type Reader = { db: Db };

/** The user's accounts, optionally of one of their connections (another user's: 404). */
export async function listAccounts(deps: Reader, userId: string, connectionId?: string) {
  if (connectionId !== undefined && !(await findUserConnection(deps.db, userId, connectionId))) {
    throw notFound("connection");
  }
  const rows = await listUserAccounts(deps.db, userId, connectionId);
  return { accounts: rows.map((r) => accountView(r.account, r.lastSyncedAt)) };
}

async function ownAccount(deps: Reader, userId: string, id: string) {
  const found = await findUserAccount(deps.db, userId, id);
  if (!found) throw notFound("account");
  return found;
}

export async function getAccount(deps: Reader, userId: string, id: string) {
  const found = await ownAccount(deps, userId, id);
  return accountView(found.account, found.lastSyncedAt);
}

export async function accountHoldings(deps: Reader, userId: string, id: string) {
  const found = await ownAccount(deps, userId, id);
  const rows = await listAccountHoldings(deps.db, id);
  return { holdings: rows.map((h) => holdingView(h, found.account, found.lastSyncedAt)) };
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY = 86_400_000;

/** `YYYY-MM-DD` or an RFC 3339 timestamp; a bare `to` date includes its whole (UTC) day. */
function bound(value: string | undefined, end: boolean): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(DATE_ONLY.test(value) ? `${value}T00:00:00.000Z` : value);
  return DATE_ONLY.test(value) && end ? new Date(at.getTime() + DAY - 1) : at;
}

/** One account's transactions, newest first, in [from, to], keyset pages of `limit`. */
export async function accountTransactions(
  deps: Reader,
  userId: string,
  id: string,
  q: { from?: string; to?: string; limit: number; cursor?: string },
) {
  const from = bound(q.from, false);
  const to = bound(q.to, true);
  if (from && to && from > to) {
    throw fail("validation_failed", "The request did not pass validation.", {
      errors: [{ path: "query.from", message: "must not be after `to`" }],
    });
  }
  await ownAccount(deps, userId, id);
  const rows = await listAccountTransactions(deps.db, id, {
    from,
    to,
    limit: q.limit + 1,
    after: decodeCursor(q.cursor),
  });
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return {
    transactions: page.map(transactionView),
    next_cursor: rows.length > q.limit && last ? encodeCursor(last.date, last.id) : null,
  };
}
