import { insertAudit } from "../../db/audit";
import { findUserById, updateUser } from "../../db/users";
import { notFound } from "../../errors";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { type PublicUser, toPublicUser, withCurrentRole } from "./users";

export async function getMe(deps: Pick<ServiceDeps, "db">, userId: string) {
  const user = await findUserById(deps.db, userId);
  if (!user) throw notFound("user");
  return toPublicUser(user);
}

/** What `GET /auth/me` reads when the user's home cannot be reached: D1, and no caching. */
export const uncachedProfile = () => ({ kind: "profile" as const, profile: null, epoch: -1 });

/**
 * The user as their home object has them cached, else from D1, then cached (unless the user
 * changed meanwhile: `epoch`). The hot path of `GET /auth/me` makes no D1 query. The role the
 * configuration gives (ADMIN_EMAILS) is applied here, never cached.
 */
export async function myProfile(
  deps: Pick<ServiceDeps, "db" | "homes" | "limiter" | "defer" | "logger" | "config">,
  userId: string,
  cached: { profile: PublicUser | null; epoch: number },
): Promise<PublicUser> {
  if (cached.profile) return withCurrentRole(deps.config, cached.profile);
  const profile = await getMe(deps, userId);
  if (cached.epoch < 0) return withCurrentRole(deps.config, profile);
  deps.defer(
    deps.homes
      .setProfile(userId, profile, cached.epoch)
      .catch((err) => deps.logger.warn("profile not cached", { error: String(err) })),
  );
  return withCurrentRole(deps.config, profile);
}

/**
 * Every change of a user row calls this after D1 commits, before answering: the next
 * `GET /auth/me` reads the new row. A home that cannot be reached is logged; its cached copy
 * then expires on its own (src/home/profile.ts PROFILE_TTL_MS).
 */
export async function profileChanged(deps: Pick<ServiceDeps, "homes" | "limiter" | "logger">, userId: string) {
  await deps.homes
    .forgetProfile(userId)
    .catch((err) => deps.logger.error("cached profile not forgotten", { userId, error: String(err) }));
}

export async function updateName(deps: ServiceDeps, meta: RequestMeta, userId: string, name: string) {
  const now = deps.now();
  await deps.db.batch([
    updateUser(deps.db, userId, { name, updatedAt: now }),
    insertAudit(deps.db, {
      ...auditContext(meta),
      occurredAt: now,
      action: "auth.profile_updated",
      outcome: "success",
      userId,
    }),
  ]);
  await profileChanged(deps, userId);
  return getMe(deps, userId);
}
