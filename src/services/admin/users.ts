import type { Config } from "../../config";
import { insertAudit } from "../../db/audit";
import { countLiveSessions } from "../../db/sessions";
import { bumpTokenVersion, deleteUser, findUserById, listUsers, type UserRow, updateUser } from "../../db/users";
import { emails } from "../../email/templates";
import { ApiError, notFound } from "../../http/errors";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { decodeCursor, encodeCursor } from "../cursor";
import { toPublicUser } from "../identity/users";
import { revokeSessions } from "../sessions";

/** An administrator lock has no natural end: the lock lasts until an admin lifts it. */
export const ADMIN_LOCK_UNTIL = new Date("9999-12-31T23:59:59Z");

/** Admin by role, or by ADMIN_EMAILS. */
export const isAdmin = (config: Config, user: Pick<UserRow, "role" | "email">) =>
  user.role === "admin" || config.adminEmails.includes(user.email);

function adminView(config: Config, u: UserRow, sessionCount: number, now: Date) {
  const locked = u.lockedUntil !== null && u.lockedUntil > now;
  return {
    ...toPublicUser(u),
    role: isAdmin(config, u) ? ("admin" as const) : ("user" as const),
    locked,
    locked_until: locked ? (u.lockedUntil as Date).toISOString() : null,
    failed_login_count: u.failedLoginCount,
    session_count: sessionCount,
  };
}

export type AdminUser = ReturnType<typeof adminView>;

export async function listUsersPage(deps: ServiceDeps, q: string | undefined, limit: number, cursor?: string) {
  const rows = await listUsers(deps.db, { q, limit: limit + 1, after: decodeCursor(cursor) });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const now = deps.now();
  return {
    users: page.map((u) => {
      const { session_count: _, ...rest } = adminView(deps.config, u, 0, now);
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
  const now = deps.now();
  return adminView(deps.config, user, await countLiveSessions(deps.db, id, now), now);
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
 * Sets role and/or lock state; idempotent (asking for the current state changes nothing but is
 * still audited). Locking also ends every session at once.
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
    throw new ApiError(409, "cannot_modify_self", "Administrators cannot demote or lock themselves.");
  }
  if (patch.role === "user" && deps.config.adminEmails.includes(user.email)) {
    throw new ApiError(409, "admin_by_configuration", "This account is an admin through ADMIN_EMAILS.");
  }
  const changes: Partial<UserRow> = {};
  const details: Record<string, unknown> = {};
  if (patch.role && patch.role !== user.role) {
    changes.role = patch.role;
    details.role = { from: user.role, to: patch.role };
  }
  const isLocked = user.lockedUntil !== null && user.lockedUntil > now;
  if (patch.locked === true && !isLocked) {
    changes.lockedUntil = ADMIN_LOCK_UNTIL;
    details.locked = true;
  }
  if (patch.locked === false && isLocked) {
    changes.lockedUntil = null;
    changes.failedLoginCount = 0;
    details.locked = false;
  }
  if (changes.lockedUntil) {
    await revokeSessions(
      deps,
      meta,
      { userId: id },
      { actorId: actor.userId, sessionId: actor.sessionId, reason: "admin_lock" },
    );
  }
  await deps.db.batch([
    updateUser(deps.db, id, { ...changes, updatedAt: Object.keys(changes).length ? now : user.updatedAt }),
    insertAudit(
      deps.db,
      adminAudit(meta, actor, now, "admin.user_updated", id, { ...details, changed: Object.keys(details).length > 0 }),
    ),
  ]);
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
  if (id === actor.userId) throw new ApiError(409, "cannot_delete_self", "Administrators cannot delete themselves.");
  const user = await mustFind(deps, id);
  if (isAdmin(deps.config, user)) throw new ApiError(403, "cannot_delete_admin", "Demote the administrator first.");
  await revokeSessions(
    deps,
    meta,
    { userId: id },
    { actorId: actor.userId, sessionId: actor.sessionId, reason: "account_deleted" },
  );
  const now = deps.now();
  // The audit row outlives the account (append-only), so it keeps no personal data.
  await deps.db.batch([
    deleteUser(deps.db, id),
    insertAudit(deps.db, adminAudit(meta, actor, now, "admin.user_deleted", id, { message_sent: message !== null })),
  ]);
  await deps.email.send(emails.accountDeleted(user.email, user.name, message));
}

/** Ends every session of a user. */
export async function adminRevokeSessions(deps: ServiceDeps, meta: RequestMeta, actor: Actor, id: string) {
  await mustFind(deps, id);
  return revokeSessions(
    deps,
    meta,
    { userId: id },
    { actorId: actor.userId, sessionId: actor.sessionId, reason: "admin_revoke" },
  );
}

/** Per-user breach rotation: every token the user holds stops working at once. */
export async function rotateUserTokens(deps: ServiceDeps, meta: RequestMeta, actor: Actor, id: string) {
  const user = await mustFind(deps, id);
  const next = user.tokenVersion + 1;
  await deps.gate.setMinTokenVersion(id, next);
  const now = deps.now();
  const [bumped] = await deps.db.batch([
    bumpTokenVersion(deps.db, id, now),
    insertAudit(deps.db, adminAudit(meta, actor, now, "admin.user_tokens_rotated", id, { token_version: next })),
  ]);
  const version = bumped[0]?.tokenVersion ?? next;
  // A concurrent bump may have gone further; the Gate only ever raises its minimum.
  if (version !== next) await deps.gate.setMinTokenVersion(id, version);
  return version;
}
