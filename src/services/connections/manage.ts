/** Reading, renaming and deleting a user's own connections. */

import {
  deleteUserConnection,
  findUserConnection,
  listUserConnections,
  updateUserConnection,
} from "../../db/connections";
import type { Deps } from "../../deps";
import { notFound } from "../../errors";
import type { RequestMeta } from "../context";
import { connectionAudit } from "./audit";
import type { ConnectionDeps } from "./deps";
import { outstandingRequisitions, type RevokeDeps, revokeConsent, withdrawRequisitions } from "./revoke";
import { type ConnectionView, connectionView } from "./view";

type Reader = Pick<ConnectionDeps, "db" | "config" | "now">;

/** The user's connections, oldest first. */
export async function listConnections(deps: Reader, userId: string): Promise<ConnectionView[]> {
  const rows = await listUserConnections(deps.db, userId);
  const now = deps.now();
  return rows.map((r) => connectionView(r, now, deps.config.providers));
}

/** One of the user's connections; another user's is 404, like a missing one. */
export async function getConnection(deps: Reader, userId: string, id: string): Promise<ConnectionView> {
  const row = await findUserConnection(deps.db, userId, id);
  if (!row) throw notFound("connection");
  return connectionView(row, deps.now(), deps.config.providers);
}

/** Sets or clears the alias. */
export async function renameConnection(
  deps: Reader,
  meta: RequestMeta,
  userId: string,
  id: string,
  alias: string | null,
): Promise<ConnectionView> {
  const before = await findUserConnection(deps.db, userId, id);
  if (!before) throw notFound("connection");
  const now = deps.now();
  const [rows] = await deps.db.batch([
    updateUserConnection(deps.db, userId, id, { alias, updatedAt: now }),
    connectionAudit(deps.db, meta, now, {
      action: "connection.renamed",
      outcome: "success",
      userId,
      connectionId: id,
      provider: before.provider,
    }),
  ]);
  const row = rows[0];
  if (!row) throw notFound("connection");
  return connectionView(row, now, deps.config.providers);
}

/**
 * Deletes a connection: first its data in the user's home (its transactions leave the change
 * feed as `removed`, then accounts and holdings go), then the row with its encrypted credentials
 * (and, by cascade, its OAuth states and dead letters) in one batch with the audit row. A failure
 * between the two leaves the connection listed, with no data: deleting again finishes the job.
 * After the response, its consent is withdrawn at the provider where that exists (./revoke.ts).
 */
export async function deleteConnection(
  deps: Reader & RevokeDeps & Pick<Deps, "homes" | "defer">,
  meta: RequestMeta,
  userId: string,
  id: string,
) {
  const row = await findUserConnection(deps.db, userId, id);
  if (!row) throw notFound("connection");
  // Consent flows started and never completed go with the row: their requisitions too.
  const abandoned = await outstandingRequisitions(deps, row);
  const { removedTransactions } = await deps.homes.deleteConnection(userId, id);
  const now = deps.now();
  const [deleted] = await deps.db.batch([
    deleteUserConnection(deps.db, userId, id),
    connectionAudit(deps.db, meta, now, {
      action: "connection.deleted",
      outcome: "success",
      userId,
      connectionId: id,
      provider: row.provider,
      details: {
        status: row.status,
        had_credentials: row.accessTokenEnc !== null,
        removed_transactions: removedTransactions,
      },
    }),
  ]);
  const gone = deleted[0];
  if (!gone) throw notFound("connection");
  // The row as it was deleted: a reauthorization completed meanwhile left its newest consent there.
  deps.defer(revokeConsent(deps, gone));
  if (abandoned.length) deps.defer(withdrawRequisitions(deps, row.provider, abandoned));
}
