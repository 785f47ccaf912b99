import { z } from "@hono/zod-openapi";
import { PASSWORD_MAX } from "../services/password-policy";

// Emails are trimmed and lower-cased before they are validated or looked up.
export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({ error: "must be an email address" }).max(254))
  .openapi({ example: "ada@example.com", type: "string", format: "email" });

// The policy (weak_password) judges the content; this only bounds what we are willing to hash.
export const Password = z
  .string()
  .min(1, "is required")
  .max(PASSWORD_MAX * 4, "is far too long")
  .openapi({ example: "Correct-Horse-9-Battery", description: "8–128 characters with upper, lower, digit, symbol." });

export const Name = z.string().trim().min(1, "is required").max(100, "must be at most 100 characters");

export const Token = z
  .string()
  .min(20, "is not a valid token")
  .max(200, "is not a valid token")
  .openapi({ description: "The value of `token=` in the emailed link." });

export const User = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    email_verified: z.boolean(),
    role: z.enum(["user", "admin"]),
    mfa_enabled: z.boolean(),
    created_at: z.string().openapi({ format: "date-time" }),
    updated_at: z.string().openapi({ format: "date-time" }),
  })
  .openapi("User");

export const TokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().openapi({ description: "Seconds until the access token expires." }),
    refresh_token: z.string(),
    session_id: z.string(),
    user: User,
  })
  .openapi("TokenResponse");

export const Message = z.object({ message: z.string() }).openapi("Message");

export const Location = z
  .object({ country: z.string().nullable(), region: z.string().nullable(), city: z.string().nullable() })
  .nullable()
  .openapi("Location");

export const Device = z
  .object({
    browser: z.string().nullable(),
    os: z.string().nullable(),
    type: z.enum(["desktop", "mobile", "tablet", "tv", "bot", "unknown"]),
  })
  .openapi("Device");

export const SecurityEvent = z
  .object({
    id: z.string(),
    action: z.string().openapi({ example: "auth.login" }),
    outcome: z.enum(["success", "failure", "denied"]),
    occurred_at: z.string().openapi({ format: "date-time" }),
    by: z.enum(["you", "administrator", "another_account", "system"]).openapi({
      description:
        "Who caused it. For `administrator` and `another_account` the IP address, location and device are theirs and are not shown (null).",
    }),
    ip_address: z.string().nullable(),
    location: Location,
    device: Device,
  })
  .openapi("SecurityEvent");

export const Limit = (max: number, fallback: number) =>
  z.coerce.number().int("must be an integer").min(1).max(max).default(fallback).openapi({ type: "integer" });

export const TotpCode = z
  .string()
  .trim()
  .regex(/^\d{6}$/, "must be the 6-digit code from the authenticator app")
  .openapi({ example: "123456", description: "The current 6-digit TOTP code (RFC 6238: SHA-1, 30 s steps)." });

export const BackupCode = z
  .string()
  .trim()
  .min(1, "is required")
  .max(32, "is not a backup code")
  .openapi({ example: "k3m9q-x7p2d", description: "One of the backup codes given when MFA was enabled; works once." });

export const MfaToken = z
  .string()
  .min(20, "is not a valid MFA token")
  .max(200, "is not a valid MFA token")
  .openapi({ description: "The `mfa_token` from the login answer (5 minutes, single use)." });

export const MfaRequired = z
  .object({
    mfa_required: z.literal(true),
    mfa_token: z.string().openapi({ description: "Send it to POST /api/v1/auth/mfa/verify within 5 minutes." }),
    methods: z.array(z.enum(["totp", "backup_code"])),
  })
  .openapi("MfaRequired", { description: "The password was right; a second factor is due." });

export const TotpSetup = z
  .object({
    secret: z.string().openapi({ description: "Base32 (RFC 4648) secret, 160 bits, for manual entry." }),
    otpauth_url: z.string().openapi({
      example:
        "otpauth://totp/Ledgerlink:ada%40example.com?secret=…&issuer=Ledgerlink&algorithm=SHA1&digits=6&period=30",
    }),
  })
  .openapi("TotpSetup");

export const BackupCodes = z
  .object({
    backup_codes: z
      .array(z.string())
      .openapi({ description: "10 single-use codes, shown once; only their hashes are kept." }),
  })
  .openapi("BackupCodes");

const oneFactor = (b: { code?: string | undefined; backup_code?: string | undefined }) =>
  (b.code === undefined) !== (b.backup_code === undefined);
const ONE_FACTOR = { message: "send exactly one of code and backup_code", path: ["code"] };

/** POST /mfa/verify: the login's `mfa_token` with exactly one of `code` and `backup_code`. */
export const MfaVerifyBody = z
  .object({ mfa_token: MfaToken, code: TotpCode.optional(), backup_code: BackupCode.optional() })
  .refine(oneFactor, ONE_FACTOR);

/** The optional second factor of a step-up: with MFA on, one of `code` and `backup_code` (never both). */
const stepUpFactor = { code: TotpCode.optional(), backup_code: BackupCode.optional() };
const AT_MOST_ONE_FACTOR = { message: "send at most one of code and backup_code", path: ["code"] };
const atMostOneFactor = (b: { code?: string | undefined; backup_code?: string | undefined }) =>
  b.code === undefined || b.backup_code === undefined;

/** DELETE /me and POST /me/export: the password, and with MFA on one of `code` and `backup_code`. */
export const AccountDeleteBody = z
  .object({ password: Password, ...stepUpFactor })
  .refine(atMostOneFactor, AT_MOST_ONE_FACTOR)
  .openapi("AccountDeleteBody");

/** POST /change-password: the current password (and with MFA on a code) and the new one. */
export const ChangePasswordBody = z
  .object({ current_password: Password, new_password: Password, ...stepUpFactor })
  .refine(atMostOneFactor, AT_MOST_ONE_FACTOR);

/** POST /change-email: the new address, the current password (and with MFA on a code). */
export const ChangeEmailBody = z
  .object({ new_email: Email, current_password: Password, ...stepUpFactor })
  .refine(atMostOneFactor, AT_MOST_ONE_FACTOR);

/** POST /mfa/disable: the password with exactly one of `code` and `backup_code`. */
export const MfaDisableBody = z
  .object({ password: Password, code: TotpCode.optional(), backup_code: BackupCode.optional() })
  .refine(oneFactor, ONE_FACTOR);
