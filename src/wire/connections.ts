import { z } from "@hono/zod-openapi";
import { CONNECTION_STATUSES } from "../db/schema";
import { SCENARIOS } from "../providers/sandbox/scenarios";

const dateTime = () => z.string().openapi({ format: "date-time" });
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;

export const Alias = z
  .string()
  .trim()
  .min(1, "must not be empty (send null to clear it)")
  .max(100, "must be at most 100 characters")
  .regex(PRINTABLE, "must not contain control characters")
  .openapi({ example: "Brokerage" });

export const ProviderSlug = z
  .string()
  .trim()
  .min(1, "is required")
  .max(32, "is not a provider")
  .openapi({ example: "sandbox", description: "A `slug` from GET /api/v1/providers." });

export const Scenario = z.enum(SCENARIOS).openapi({
  description:
    'Sandbox only: the behaviour of the simulated login (docs/contract.md "The sandbox provider"). Default `default`.',
});

export const SandboxLogin = z
  .string()
  .regex(/^[A-Za-z0-9._@+-]{1,64}$/, "must be 1-64 characters of [A-Za-z0-9._@+-]")
  .openapi({ description: "Sandbox only: seed of the simulated login's data; the same login, the same data." });

export const ConnectionId = z
  .string()
  .min(1)
  .max(100, "is not a connection id")
  .openapi({ param: { name: "id", in: "path" }, example: "con_3hV9kR2mQpX1bN7cT4wZyA" });

export const Connection = z
  .object({
    id: z.string(),
    provider: z.string(),
    alias: z.string().nullable(),
    status: z.enum(CONNECTION_STATUSES).openapi({
      description:
        "`pending` until the authorization completes; `active`; `syncing` (a sync run holds the connection); `error` (the last sync failed in a way retrying did not fix; it is tried again on schedule); `reauth_required` (the user must reauthorize; never synced until then); `disconnected`.",
    }),
    created_at: dateTime(),
    updated_at: dateTime(),
    last_synced_at: dateTime().nullable().openapi({ description: "The last successful sync." }),
    next_sync_at: dateTime()
      .nullable()
      .openapi({ description: "When the scheduler syncs it next (null: at the next tick, within 5 minutes)." }),
    last_error: z.object({ code: z.string(), message: z.string(), at: dateTime() }).nullable().openapi({
      description:
        "The last provider failure: `reauth_required`, `provider_unavailable`, `provider_rate_limited`, `provider_payment_required`, `provider_error`, `provider_empty_answer`, `internal_error`, `authorization_denied`, `authorization_failed`. Cleared by the next successful sync.",
    }),
    consecutive_failures: z
      .number()
      .int()
      .openapi({ description: "Sync runs that failed in a row (0 after a success)." }),
    cooldown_until: dateTime().nullable().openapi({
      description:
        "No sync before this: a 429's Retry-After, 30 minutes after repeated failed runs, 24 hours after a 402.",
    }),
    credentials_expire_at: dateTime().nullable().openapi({
      description: "When the provider's refresh token dies (Schwab: 7 days after the login, not renewable).",
    }),
    reauth_recommended: z.boolean().openapi({
      description:
        "True when the credentials expire within the warning window (CONNECTION_REAUTH_WARNING_HOURS) or already need re-authorization: send the user through reauthorize.",
    }),
  })
  .openapi("Connection");

export const AuthorizationStart = {
  authorization_url: z.string().openapi({ description: "Send the user's browser here (the provider's consent page)." }),
  state: z
    .string()
    .openapi({ description: "Single use, 10 minutes, bound to you and the provider (RFC 6749 §10.12)." }),
  expires_in: z.number().int().openapi({ description: "Seconds until `state` expires.", example: 600 }),
};

export const ProviderInfo = z
  .object({
    slug: z.string().openapi({ example: "schwab" }),
    name: z.string().openapi({ example: "Charles Schwab" }),
    auth_type: z.literal("oauth2"),
    scenarios: z.array(z.string()).optional().openapi({ description: "Sandbox only: the accepted `scenario` values." }),
  })
  .openapi("Provider");

export const ReturnTo = z.string().max(2048, "is too long").openapi({
  example: "https://app.example.com/connect/done",
  description:
    "Where the browser returns with `code` and `state` after the provider: must match CONNECT_RETURN_URLS (outside production, http://localhost:* is allowed).",
});

/** The GET callback's JSON answer: what the app posts to POST /connections/callback. */
export const HandOffBody = z
  .object({
    state: z.string(),
    code: z.string().optional(),
    error: z.string().optional().openapi({ description: "RFC 6749 §4.1.2.1, e.g. `access_denied`." }),
  })
  .openapi("ConnectHandOff");

/** POST /connections/callback: the hand-off's `state` with the provider's `code`, or its `error`. */
export const CallbackBody = z
  .object({
    state: z.string().min(1, "is required").max(512, "is not a valid state"),
    code: z.string().min(1).max(4096).optional(),
    error: z.string().max(256).optional().openapi({ description: "What the provider sent instead of a code." }),
  })
  .refine((b) => (b.code === undefined) !== (b.error === undefined), {
    message: "send exactly one of code and error",
    path: ["code"],
  });

export const CallbackQuery = z
  .object({
    state: z.string().min(1, "is required").max(512, "is not a valid state"),
    code: z.string().min(1).max(4096).optional(),
    error: z.string().max(256).optional().openapi({ description: "RFC 6749 §4.1.2.1, e.g. `access_denied`." }),
    error_description: z.string().max(2048).optional(),
    session: z.string().max(256).optional().openapi({ description: "Sent by Schwab beside the code; ignored." }),
  })
  .refine((q) => q.code !== undefined || q.error !== undefined, { message: "is required", path: ["code"] });
