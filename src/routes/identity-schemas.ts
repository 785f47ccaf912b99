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
    ip_address: z.string().nullable(),
    location: Location,
    device: Device,
  })
  .openapi("SecurityEvent");

export const Limit = (max: number, fallback: number) =>
  z.coerce.number().int("must be an integer").min(1).max(max).default(fallback).openapi({ type: "integer" });
