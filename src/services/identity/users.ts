import type { UserRow } from "../../db/users";

/** Email addresses are compared trimmed and lower-cased (lookups and uniqueness). */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** API.md `User`. */
export interface PublicUser {
  id: string;
  email: string;
  name: string;
  email_verified: boolean;
  role: "user" | "admin";
  mfa_enabled: boolean;
  created_at: string;
  updated_at: string;
}

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
