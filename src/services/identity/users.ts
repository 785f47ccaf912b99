import type { z } from "zod";
import type { UserRow } from "../../db/users";
import type { User } from "../../wire/identity";

/** Email addresses are compared trimmed and lower-cased (lookups and uniqueness). */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** The wire shape of a user (src/wire/identity.ts). */
export type PublicUser = z.infer<typeof User>;

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
