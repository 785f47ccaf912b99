/**
 * Erasing an account everywhere (docs/contract.md "Your data"): D1 first, in one batch: the
 * user row (sessions, emailed links, MFA codes, connections and their sealed credentials go
 * with it by foreign-key cascade), a pending erasure, and an audit row with no personal data.
 * Then the user's home object (`deleteAll()`: ledger, sync runs, limits; open sockets close and
 * the user's tokens stop). A home that cannot be reached now is erased by the hourly job.
 */
import type { NewAuditRow } from "../../db/audit";
import { insertAudit } from "../../db/audit";
import { clearErasure, pendingErasuresBefore, recordErasure } from "../../db/erasures";
import { deleteUser, type UserRow } from "../../db/users";
import type { ServiceDeps } from "../context";

type EraseDeps = Pick<ServiceDeps, "db" | "gate" | "logger" | "now">;

export async function eraseAccount(deps: EraseDeps, user: UserRow, audit: NewAuditRow) {
  await deps.db.batch([
    deleteUser(deps.db, user.id),
    recordErasure(deps.db, user.id, deps.now()),
    insertAudit(deps.db, audit),
  ]);
  await eraseHome(deps, user.id);
}

/** Erases one home and clears its pending row; false (logged) if the home could not be reached. */
async function eraseHome(deps: EraseDeps, userId: string): Promise<boolean> {
  try {
    await deps.gate.eraseHome(userId);
    await clearErasure(deps.db, userId);
    return true;
  } catch (err) {
    deps.logger.error("home not erased yet; the hourly job retries", { user_id: userId, error: String(err) });
    return false;
  }
}

/** The hourly job's part: homes whose erasure was requested over a minute ago and is not done. */
export async function finishErasures(deps: EraseDeps, now: Date): Promise<{ erased: number; pending: number }> {
  const rows = await pendingErasuresBefore(deps.db, new Date(now.getTime() - 60_000), 100);
  let erased = 0;
  for (const row of rows) if (await eraseHome(deps, row.userId)) erased++;
  return { erased, pending: rows.length - erased };
}
