/**
 * Relinks (docs/contract.md "Connecting a provider"): when a sync finds accounts another of the
 * user's connections to the same provider already brought, the user's home moves them to the
 * new connection (src/ledger/store.ts `adopt`). A connection left without accounts is retired
 * here: its D1 row and sealed credentials are deleted (the new connection's replace them), the
 * home forgets it, and the audit trail and the user's live events say which replaced which.
 */
import { deleteUserConnection } from "../../db/connections";
import { liveEvent } from "../../gate/events";
import type { Relinked } from "../../gate/gate";
import type { SyncDeps } from "../sync/deps";
import { connectionAudit } from "./audit";

export async function retireRelinked(
  deps: Pick<SyncDeps, "db" | "gate" | "now" | "logger">,
  into: { id: string; userId: string; provider: string },
  relinked: Relinked,
) {
  if (relinked.emptied.length === 0) return;
  const now = deps.now();
  const home = deps.gate.home(into.userId);
  for (const old of relinked.emptied) {
    await home.deleteConnectionData(old);
    await deps.db.batch([
      deleteUserConnection(deps.db, into.userId, old),
      connectionAudit(deps.db, null, now, {
        action: "connection.relinked",
        outcome: "success",
        userId: into.userId,
        connectionId: into.id,
        provider: into.provider,
        details: { replaced_connection_id: old, accounts_moved: relinked.moved },
      }),
    ]);
    await deps.gate.publish(
      into.userId,
      liveEvent("connection.relinked", { connection_id: into.id, replaced_connection_id: old }, now),
    );
    deps.logger.info("connection relinked", { connection_id: into.id, replaced_connection_id: old });
  }
}
