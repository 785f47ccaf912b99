import type { z } from "zod";
import type { Config } from "../../config";
import type { UserRow } from "../../db/users";
import type { User } from "../../wire/identity";

/** Email addresses are compared trimmed and lower-cased (lookups and uniqueness). */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** The wire shape of a user (src/wire/identity.ts). */
export type PublicUser = z.infer<typeof User>;

/**
 * Administrator by role (granted with `PATCH /admin/users/{id}`, stored), or by ADMIN_EMAILS for
 * a verified address. The list is read per request and never stored, so removing an address
 * demotes at once (docs/contract.md "Administration").
 */
export const isAdmin = (config: Config, user: Pick<UserRow, "role" | "email" | "emailVerifiedAt">) =>
  user.role === "admin" || (user.emailVerifiedAt !== null && config.adminEmails.includes(user.email));

/** A profile (as stored or cached) with its role as this configuration says now. */
export function withCurrentRole(config: Config, p: PublicUser): PublicUser {
  const listed = p.email_verified && config.adminEmails.includes(p.email);
  return p.role === "admin" || !listed ? p : { ...p, role: "admin" };
}

/** The wire view of a user row, role as stored (see `withCurrentRole`). */
export function toPublicUser(u: UserRow): PublicUser {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    email_verified: u.emailVerifiedAt !== null,
    role: u.role,
    mfa_enabled: u.mfaEnabled,
    created_at: u.createdAt.toISOString(),
    updated_at: u.updatedAt.toISOString(),
  };
}

export const isUniqueViolation = (err: unknown) =>
  err instanceof Error && /UNIQUE constraint failed/i.test(err.message);
