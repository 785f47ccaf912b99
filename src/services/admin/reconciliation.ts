/** Accounts in reconciliation drift, across users, for administrators (D1's index of them). */

import { listDrifts } from "../../db/reconciliation";
import type { Deps } from "../../deps";
import { decodeCursor, encodeCursor } from "../cursor";

export async function driftingAccounts(deps: Pick<Deps, "db">, q: { limit: number; cursor?: string | undefined }) {
  const rows = await listDrifts(deps.db, q.limit + 1, decodeCursor(q.cursor));
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return {
    accounts: page.map((r) => ({
      account_id: r.accountId,
      user_id: r.userId,
      connection_id: r.connectionId,
      provider: r.provider,
      currency: r.currency,
      difference: r.difference,
      since: r.since.toISOString(),
      updated_at: r.updatedAt.toISOString(),
    })),
    next_cursor: rows.length > q.limit && last ? encodeCursor(last.since, last.accountId) : null,
  };
}
