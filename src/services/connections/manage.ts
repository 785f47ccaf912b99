/** Reading, renaming and deleting a user's own connections. */
import { deleteConnectionAccounts } from "../../db/accounts";
import type { Db } from "../../db/client";
import {
  deleteUserConnection,
  findUserConnection,
  listUserConnections,
  updateUserConnection,
} from "../../db/connections";
import { deleteConnectionTransactions } from "../../db/transactions";
import { notFound } from "../../errors";
import type { RequestMeta } from "../context";
import { connectionAudit } from "./audit";
import type { ConnectionDeps } from "./deps";
import { type ConnectionView, connectionView } from "./view";

type Reader = Pick<ConnectionDeps, "db" | "config" | "now">;

/** The user's connections, oldest first. */
export async function listConnections(deps: Reader, userId: string): Promise<ConnectionView[]> {
  const rows = await listUserConnections(deps.db, userId);
  const now = deps.now();
  return rows.map((r) => connectionView(r, now, deps.config.providers.reauthWarningMs));
}

/** One of the user's connections; another user's is 404, like a missing one. */
export async function getConnection(deps: Reader, userId: string, id: string): Promise<ConnectionView> {
  const row = await findUserConnection(deps.db, userId, id);
  if (!row) throw notFound("connection");
  return connectionView(row, deps.now(), deps.config.providers.reauthWarningMs);
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
  return connectionView(row, now, deps.config.providers.reauthWarningMs);
}

/**
 * The statements that delete a connection's synced data, for the batch that deletes the row:
 * its transactions (with change-feed tombstones, so the user's clients drop them too), then its
 * accounts (holdings go with them by foreign-key cascade). Must run before the row goes.
 */
export function connectionDataDeletes(db: Db, connectionId: string, now: Date) {
  return [...deleteConnectionTransactions(db, connectionId, now), deleteConnectionAccounts(db, connectionId)] as const;
}

/**
 * Deletes a connection: the row with its encrypted credentials (and, by cascade, its OAuth
 * states) and its data, in one batch with the audit row.
 */
export async function deleteConnection(deps: Reader, meta: RequestMeta, userId: string, id: string) {
  const row = await findUserConnection(deps.db, userId, id);
  if (!row) throw notFound("connection");
  const now = deps.now();
  const [, , , , deleted] = await deps.db.batch([
    ...connectionDataDeletes(deps.db, id, now),
    deleteUserConnection(deps.db, userId, id),
    connectionAudit(deps.db, meta, now, {
      action: "connection.deleted",
      outcome: "success",
      userId,
      connectionId: id,
      provider: row.provider,
      details: { status: row.status, had_credentials: row.accessTokenEnc !== null },
    }),
  ]);
  if (deleted.length === 0) throw notFound("connection");
}
