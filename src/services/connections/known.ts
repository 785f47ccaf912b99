import { findUserConnection } from "../../db/connections";
import type { Deps } from "../../deps";

/**
 * The user's home did not know a connection id: it is theirs only if D1 says so (a connection
 * made before homes held ledgers, or whose home write failed). Off the hot path: only a
 * connection the home has never seen asks D1. The home learns it for next time.
 */
export async function isOwnConnection(
  deps: Pick<Deps, "db" | "gate" | "defer" | "logger">,
  userId: string,
  connectionId: string,
): Promise<boolean> {
  const row = await findUserConnection(deps.db, userId, connectionId);
  if (!row) return false;
  deps.defer(
    deps.gate
      .home(userId)
      .recordConnection(userId, row.id, row.provider)
      .catch((err) => deps.logger.warn("home did not learn a connection", { error: String(err) })),
  );
  return true;
}
