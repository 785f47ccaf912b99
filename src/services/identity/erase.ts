/**
 * Erasing an account everywhere (docs/contract.md "Your data"), in an order no race can undo:
 *
 * 1. D1 records the intent (`pending_erasures`, with the audit row to write at the end), so an
 *    erasure interrupted anywhere below is finished by the hourly job.
 * 2. The user's home object is erased (`deleteAll()`: ledger, sync runs, limits; open sockets
 *    close, the user's tokens stop) and keeps the erased mark, which refuses every later write:
 *    a sync that fetched before the deletion brings nothing back.
 * 3. D1 deletes the user row (sessions, emailed links, MFA codes, connections and their sealed
 *    credentials go with it by foreign-key cascade), clears the intent and writes the audit row
 *    (no personal data), in one batch. The connections' consents are then withdrawn at their
 *    providers where that exists (src/services/connections/revoke.ts), from the rows read just
 *    before, after the response.
 *
 * The home goes before the directory, so a token that is still valid never reads a ledger whose
 * directory rows are gone. A home that cannot be reached answers 503: the intent is kept and the
 * hourly job finishes the erasure (home, then directory) once it can.
 */
import { insertAudit, type NewAuditRow } from "../../db/audit";
import { listUserConnections } from "../../db/connections";
import { clearErasure, pendingErasuresBefore, recordErasure } from "../../db/erasures";
import { deleteUser, type UserRow } from "../../db/users";
import { fail } from "../../errors";
import { outstandingRequisitions, type RevokeDeps, revokeConsents, withdrawRequisitions } from "../connections/revoke";
import type { ServiceDeps } from "../context";

type EraseDeps = Pick<ServiceDeps, "db" | "homes" | "limiter" | "logger" | "now" | "defer"> & RevokeDeps;

const auditJson = (audit: NewAuditRow) => JSON.stringify({ ...audit, occurredAt: audit.occurredAt.getTime() });
const auditOf = (json: string | null): NewAuditRow | null => {
  if (!json) return null;
  const row = JSON.parse(json) as NewAuditRow & { occurredAt: number };
  return { ...row, occurredAt: new Date(row.occurredAt) };
};

export async function eraseAccount(deps: EraseDeps, user: Pick<UserRow, "id">, audit: NewAuditRow) {
  await recordErasure(deps.db, user.id, deps.now(), auditJson(audit));
  if (!(await eraseHome(deps, user.id))) {
    throw fail("unavailable", "The account could not be erased completely right now; it will be within the hour.", {
      retryAfterSeconds: 60,
    });
  }
  await finishInDirectory(deps, user.id, audit);
}

/** Erases one home; false (logged) if it could not be reached. */
async function eraseHome(deps: EraseDeps, userId: string): Promise<boolean> {
  try {
    await deps.homes.erase(userId);
    return true;
  } catch (err) {
    deps.logger.error("home not erased yet; the hourly job retries", { user_id: userId, error: String(err) });
    return false;
  }
}

/** The directory's part, once the home is erased: the user row, the intent, the audit row. */
async function finishInDirectory(deps: EraseDeps, userId: string, audit: NewAuditRow | null) {
  const connections = await listUserConnections(deps.db, userId);
  // Consent flows started and never completed go too: their requisitions, read before the rows go.
  const abandoned = await Promise.all(
    connections.map(async (c) => ({ provider: c.provider, ids: await outstandingRequisitions(deps, c) })),
  );
  await deps.db.batch([
    deleteUser(deps.db, userId),
    clearErasure(deps.db, userId),
    ...(audit ? [insertAudit(deps.db, audit)] : []),
  ]);
  deps.defer(revokeConsents(deps, connections));
  for (const a of abandoned) if (a.ids.length) deps.defer(withdrawRequisitions(deps, a.provider, a.ids));
}

/** The hourly job's part: erasures requested over a minute ago and not finished. */
export async function finishErasures(deps: EraseDeps, now: Date): Promise<{ erased: number; pending: number }> {
  const rows = await pendingErasuresBefore(deps.db, new Date(now.getTime() - 60_000), 100);
  let erased = 0;
  for (const row of rows) {
    if (!(await eraseHome(deps, row.userId))) continue;
    await finishInDirectory(deps, row.userId, auditOf(row.audit));
    erased++;
  }
  return { erased, pending: rows.length - erased };
}
