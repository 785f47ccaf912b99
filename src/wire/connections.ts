import { z } from "@hono/zod-openapi";
import { CONNECTION_STATUSES } from "../db/schema";

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

export const Scenario = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,31}$/, "is not a scenario")
  .openapi({
    description:
      'Sandboxes only: the behaviour of the simulated provider, one of that sandbox\'s `scenarios` in GET /api/v1/providers (docs/contract.md "The sandbox providers"). Default `default`.',
  });

export const InstitutionId = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, "is not an institution id")
  .openapi({
    example: "SANDBOXFINANCE_SFIN0000",
    description: "For providers with `needs_institution`: an `id` from GET /api/v1/institutions.",
  });

export const SetupToken = z.string().trim().min(1, "is required").max(4096, "is not a setup token").openapi({
  description:
    "For `setup_token` providers (SimpleFIN): the token the person copied from their bridge. Claimed once, never stored or shown; the access URL it gives is kept encrypted.",
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
    institution_id: z.string().nullable().openapi({ description: "The bank of a bank-consent connection." }),
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
    warnings: z.array(z.object({ code: z.string(), message: z.string(), reauth: z.boolean() })).openapi({
      description:
        "What the provider said beside good data on the last sync (SimpleFIN's `errors`, e.g. one bank login needing attention: `reauth` true). Nothing was lost; cleared by the next sync without them.",
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
    consent_expires_at: dateTime().nullable().openapi({
      description:
        "When the person's consent ends and the connection becomes `reauth_required` (GoCardless: the agreement's days, 90 by default; Schwab: the refresh token's 7 days; SimpleFIN, Alpaca: null).",
    }),
    reauth_recommended: z.boolean().openapi({
      description:
        "True when the credentials or consent end within the warning window (CONNECTION_REAUTH_WARNING_HOURS, CONSENT_WARNING_DAYS) or already need re-authorization: send the user through reauthorize.",
    }),
  })
  .openapi("Connection");

export const AuthorizationStart = {
  authorization_url: z.string().nullable().openapi({
    description:
      "Send the user's browser here (the provider's or the bank's consent page). null for a setup token: the connection is already `active`.",
  }),
  state: z.string().nullable().openapi({
    description: "Single use, 10 minutes, bound to you and the provider (RFC 6749 §10.12); null for a setup token.",
  }),
  expires_in: z
    .number()
    .int()
    .nullable()
    .openapi({ description: "Seconds until `state` expires (null for a setup token).", example: 600 }),
};

export const ProviderInfo = z
  .object({
    slug: z.string().openapi({ example: "schwab" }),
    name: z.string().openapi({ example: "Charles Schwab" }),
    auth_type: z.enum(["oauth2", "bank_consent", "setup_token"]).openapi({
      description:
        "How it links: `oauth2` and `bank_consent` send the person to `authorization_url` and back through the callback; `setup_token` takes the token the person pastes (`setup_token`).",
    }),
    countries: z.array(z.string()).openapi({ description: "ISO 3166 countries served (empty: any).", example: ["US"] }),
    needs_institution: z
      .boolean()
      .openapi({ description: "A connect names the bank: `institution_id` from GET /api/v1/institutions." }),
    configured: z.boolean().openapi({
      description:
        "False when this deployment lacks the provider's credentials: connecting answers 422 `provider_not_configured`.",
    }),
    scenarios: z
      .array(z.string())
      .optional()
      .openapi({ description: "Sandboxes only: the accepted `scenario` values." }),
  })
  .openapi("Provider");

export const Institution = z
  .object({
    id: z.string().openapi({ example: "SANDBOXFINANCE_SFIN0000" }),
    name: z.string(),
    bic: z.string().nullable(),
    countries: z.array(z.string()),
    transaction_total_days: z.number().int().nullable().openapi({ description: "Days of history the bank gives." }),
    max_access_valid_for_days: z.number().int().nullable().openapi({
      description: "The longest consent the bank allows (days); the connection's consent lasts this long.",
    }),
    logo: z.string().nullable(),
  })
  .openapi("Institution");

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

/** A bank consent's hand-off `code` from a reference of the older form (the state alone). */
export const CONSENT_CODE = "consent";

/**
 * A bank's `ref` is `<state>.<proof>`: the state, and the proof that the browser came back from
 * the bank (the hand-off's `code`). A reference without a proof is of the older form.
 */
const fromReference = (ref: string) => {
  const at = ref.indexOf(".");
  return at < 0 ? { state: ref, code: CONSENT_CODE } : { state: ref.slice(0, at), code: ref.slice(at + 1) };
};

export const CallbackQuery = z
  .object({
    state: z.string().min(1, "is required").max(512, "is not a valid state").optional(),
    ref: z.string().min(1).max(512, "is not a valid state").optional().openapi({
      description:
        "Sent by a bank (GoCardless) instead of `state`: the state and, after a dot, the proof handed back as `code`.",
    }),
    code: z.string().min(1).max(4096).optional(),
    error: z.string().max(256).optional().openapi({ description: "RFC 6749 §4.1.2.1, e.g. `access_denied`." }),
    error_description: z.string().max(2048).optional(),
    details: z.string().max(2048).optional().openapi({ description: "Sent by a bank beside `error`; ignored." }),
    session: z.string().max(256).optional().openapi({ description: "Sent by Schwab beside the code; ignored." }),
  })
  .refine((q) => q.state !== undefined || q.ref !== undefined, { message: "is required", path: ["state"] })
  .refine((q) => q.code !== undefined || q.error !== undefined || q.ref !== undefined, {
    message: "is required",
    path: ["code"],
  })
  .transform((q) => {
    const bank = q.state === undefined && q.ref !== undefined ? fromReference(q.ref) : null;
    return {
      state: bank ? bank.state : (q.state as string),
      code: q.error === undefined ? (q.code ?? bank?.code ?? CONSENT_CODE) : undefined,
      error: q.error,
    };
  });
