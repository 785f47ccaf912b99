import type { Config } from "../../config";
import { newId } from "../../crypto/random";
import { insertAudit } from "../../db/audit";
import { listUserConnections } from "../../db/connections";
import { countLiveSessions, listRevokedSessionIds } from "../../db/sessions";
import { bumpTokenVersion, findUserById, listUsers, type UserRow, updateUser } from "../../db/users";
import { emails, greeting } from "../../email/templates";
import { fail, invalidField, notFound } from "../../errors";
import type { StagedRestore } from "../../limiter/global";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { decodeCursor, encodeCursor } from "../cursor";
import { eraseAccount } from "../identity/erase";
import { profileChanged } from "../identity/profile";
import { isAdmin, toPublicUser } from "../identity/users";
import { revokeSessions } from "../sessions";

function adminView(config: Config, u: UserRow, sessionCount: number) {
  return {
    ...toPublicUser(u),
    role: isAdmin(config, u) ? ("admin" as const) : ("user" as const),
    locked: u.disabledAt !== null,
    locked_at: u.disabledAt?.toISOString() ?? null,
    session_count: sessionCount,
  };
}

export type AdminUser = ReturnType<typeof adminView>;

export async function listUsersPage(deps: ServiceDeps, q: string | undefined, limit: number, cursor?: string) {
  const rows = await listUsers(deps.db, { q, limit: limit + 1, after: decodeCursor(cursor) });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    users: page.map((u) => {
      const { session_count: _, ...rest } = adminView(deps.config, u, 0);
      return rest;
    }),
    next_cursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

async function mustFind(deps: ServiceDeps, id: string) {
  const user = await findUserById(deps.db, id);
  if (!user) throw notFound("user");
  return user;
}

export async function getUser(deps: ServiceDeps, id: string): Promise<AdminUser> {
  const user = await mustFind(deps, id);
  return adminView(deps.config, user, await countLiveSessions(deps.db, id, deps.now()));
}

type Actor = { userId: string; sessionId: string };

const adminAudit = (
  meta: RequestMeta,
  actor: Actor,
  now: Date,
  action: string,
  userId: string | null,
  details?: Record<string, unknown>,
) => ({
  ...auditContext(meta),
  occurredAt: now,
  action,
  outcome: "success" as const,
  userId,
  actorId: actor.userId,
  sessionId: actor.sessionId,
  details: details ?? null,
});

/**
 * Sets role and/or the administrator's lock; idempotent (asking for the current state changes
 * nothing but is still audited). The lock is written before the sessions are ended, so no login
 * slips in between, and only this call lifts it (a password reset does not).
 */
export async function patchUser(
  deps: ServiceDeps,
  meta: RequestMeta,
  actor: Actor,
  id: string,
  patch: { role?: "user" | "admin"; locked?: boolean },
): Promise<AdminUser> {
  const user = await mustFind(deps, id);
  const now = deps.now();
  if (id === actor.userId && (patch.role === "user" || patch.locked === true)) {
    throw fail("cannot_modify_self", "Administrators cannot demote or lock themselves.");
  }
  if (patch.role === "user" && isAdmin(deps.config, { ...user, role: "user" })) {
    throw fail("admin_by_configuration", "This account is an admin through ADMIN_EMAILS.");
  }
  const changes: Partial<UserRow> = {};
  const details: Record<string, unknown> = {};
  if (patch.role && patch.role !== user.role) {
    changes.role = patch.role;
    details.role = { from: user.role, to: patch.role };
  }
  const locks = patch.locked === true && user.disabledAt === null;
  if (locks) {
    changes.disabledAt = now;
    details.locked = true;
  }
  if (patch.locked === false && user.disabledAt !== null) {
    changes.disabledAt = null;
    details.locked = false;
  }
  await deps.db.batch([
    updateUser(deps.db, id, { ...changes, updatedAt: Object.keys(changes).length ? now : user.updatedAt }),
    insertAudit(
      deps.db,
      adminAudit(meta, actor, now, "admin.user_updated", id, { ...details, changed: Object.keys(details).length > 0 }),
    ),
  ]);
  await profileChanged(deps, id);
  if (locks) {
    await revokeSessions(
      deps,
      meta,
      { userId: id },
      { actorId: actor.userId, sessionId: actor.sessionId, reason: "admin_lock" },
    );
  }
  return getUser(deps, id);
}

/**
 * Deletes an account and its data. Never yourself (409), never another admin (403). The user's
 * sessions die at once and they get an email with the admin's message (HTML-escaped).
 */
export async function removeUser(
  deps: ServiceDeps,
  meta: RequestMeta,
  actor: Actor,
  id: string,
  message: string | null,
) {
  if (id === actor.userId) throw fail("cannot_delete_self", "Administrators cannot delete themselves.");
  const user = await mustFind(deps, id);
  if (isAdmin(deps.config, user)) throw fail("cannot_delete_admin", "Demote the administrator first.");
  await revokeSessions(
    deps,
    meta,
    { userId: id },
    { actorId: actor.userId, sessionId: actor.sessionId, reason: "account_deleted" },
  );
  const now = deps.now();
  // The audit row outlives the account (append-only), so it keeps no personal data.
  await eraseAccount(
    deps,
    user,
    adminAudit(meta, actor, now, "admin.user_deleted", id, { message_sent: message !== null }),
  );
  deps.mailer.send(emails.accountDeleted(user.email, greeting(user), message));
}

/** Ends every session of a user. */
export async function adminRevokeSessions(deps: ServiceDeps, meta: RequestMeta, actor: Actor, id: string) {
  await mustFind(deps, id);
  const revoked = await revokeSessions(
    deps,
    meta,
    { userId: id },
    { actorId: actor.userId, sessionId: actor.sessionId, reason: "admin_revoke" },
  );
  return revoked.length;
}

/** Per-user breach rotation: every token the user holds stops working at once. */
export async function rotateUserTokens(deps: ServiceDeps, meta: RequestMeta, actor: Actor, id: string) {
  const user = await mustFind(deps, id);
  const next = user.tokenVersion + 1;
  await deps.homes.setMinTokenVersion(id, next);
  const now = deps.now();
  const [bumped] = await deps.db.batch([
    bumpTokenVersion(deps.db, id),
    insertAudit(deps.db, adminAudit(meta, actor, now, "admin.user_tokens_rotated", id, { token_version: next })),
  ]);
  const version = bumped[0]?.tokenVersion ?? next;
  // A concurrent bump may have gone further; the home only ever raises its minimum.
  if (version !== next) await deps.homes.setMinTokenVersion(id, version);
  return version;
}

/** How far back Durable Objects point-in-time recovery reaches (Cloudflare: 30 days). */
export const HOME_HISTORY_MS = 30 * 86_400_000;

/**
 * Restores a user's home (their ledger, sync runs, limits) to its state at `at`, e.g. after a
 * bad sync or a bug wrote wrong data (docs/backup-restore.md). The home also holds the user's
 * revocations and token version, older now than D1's, so at once after the restart: every
 * access token issued before now is refused (live sessions refresh once, which D1 checks;
 * revoked ones cannot), the token version is D1's, connections deleted since lose their data
 * again, and a user deleted meanwhile has their home erased again. The restore is audited as
 * soon as it happened, so a failure after it still leaves the record.
 */
export async function restoreHome(
  deps: ServiceDeps,
  meta: RequestMeta,
  actor: Actor,
  id: string,
  input: { at: string; reason: string },
) {
  await mustFind(deps, id);
  const now = deps.now();
  const at = new Date(input.at);
  const tooOld = at.getTime() < now.getTime() - HOME_HISTORY_MS + 60_000;
  if (at.getTime() >= now.getTime() || tooOld) {
    throw invalidField("at", tooOld ? "is older than the 30 days of history" : "must be in the past");
  }
  const details = { to: at.toISOString(), reason: input.reason };
  // Staged before the restart, outside the home (whose storage the restore rewinds): the home
  // applies it at its first authorization, so it never serves on stale revocations.
  const staged = await restoreReconciliation(deps, id, now);
  await deps.limiter.stageRestore(id, staged);
  const restored = await deps.homes.restore(id, at);
  if (!restored) {
    // Nothing was rewound, so nothing is to be reconciled: left staged, the home would apply it
    // at its next authorization and refuse every access token issued before this second.
    await deps.limiter.unstageRestore(id, staged.id);
    await insertAudit(deps.db, {
      ...adminAudit(meta, actor, now, "admin.home_restored", id, { ...details, supported: false }),
      outcome: "failure",
    });
    throw fail("restore_not_supported", "This deployment's Durable Object storage keeps no history to restore.");
  }
  await insertAudit(
    deps.db,
    adminAudit(meta, actor, now, "admin.home_restored", id, { ...details, undo_bookmark: restored.undo }),
  );
  await reconcileRestoredHome(deps, id, deps.now());
  return { restored_to: at.toISOString(), undo_bookmark: restored.undo };
}

/** What a restored home must apply to agree with the directory as it is now. */
async function restoreReconciliation(deps: ServiceDeps, id: string, now: Date): Promise<StagedRestore> {
  const user = await mustFind(deps, id);
  const ttlMs = (deps.config.tokens.accessTtlSeconds + 60) * 1000;
  const revoked = await listRevokedSessionIds(deps.db, id, new Date(now.getTime() - ttlMs));
  return {
    id: newId("rst"),
    cutSecond: Math.floor(now.getTime() / 1000),
    revokedSessionIds: revoked.map((s) => s.id),
    revokedUntil: now.getTime() + ttlMs,
    minTokenVersion: user.tokenVersion,
    connectionIds: (await listUserConnections(deps.db, id)).map((c) => c.id),
    stagedAt: now.getTime(),
  };
}

/** Brings a restored home back in line with the directory (see restoreHome). */
async function reconcileRestoredHome(deps: ServiceDeps, id: string, now: Date) {
  const user = await findUserById(deps.db, id);
  if (!user) {
    await deps.homes.erase(id);
    throw notFound("user");
  }
  // Whole seconds: the cut spares a token of its own second, so the sessions D1 revoked within
  // an access token's life (plus a minute of skew) are revoked by id as well.
  await deps.homes.revokeBefore(id, now, null);
  const since = new Date(now.getTime() - (deps.config.tokens.accessTtlSeconds + 60) * 1000);
  const revoked = await listRevokedSessionIds(deps.db, id, since);
  await deps.homes.revokeSessions(
    id,
    revoked.map((s) => s.id),
  );
  await deps.homes.setMinTokenVersion(id, user.tokenVersion);
  const keep = (await listUserConnections(deps.db, id)).map((c) => c.id);
  await deps.homes.keepConnections(id, keep);
  await deps.homes.forgetProfile(id);
}
