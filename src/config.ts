import { importJWK, type JWK } from "jose";
import { z } from "zod";
import { SECRET_NAMES } from "./config-requirements";
import type { Keyring } from "./crypto/keyring";
import { belowOwasp, OWASP_SCRYPT, parseScryptParams, type ScryptParams } from "./crypto/password";
import { base64Bytes, weakSecretReason } from "./crypto/secret-strength";
import { buildEmailRetry, type EmailRetry, emailEnvShape, refineEmailEnv } from "./email/config";
import { effectiveEnvironment } from "./environment";
import { LOG_LEVELS, type LogLevel } from "./logger";
import { buildProviderConfig, type ProvidersConfig, providerEnvShape, refineProviderEnv } from "./providers/config";
import { RateLimitsSchema, type Rules } from "./services/rate-rules";
import { buildSyncConfig, refineSyncEnv, type SyncConfig, syncEnvShape } from "./services/sync/config";

/** Deployment environments; `production` is the only one with the strict secret rules. */
export const ENVIRONMENTS = ["development", "test", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export { LOG_LEVELS, type LogLevel } from "./logger";

/** One access-token signing key: a P-256 private JWK (ES256, RFC 7518 §3.4) with its kid. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface Config {
  environment: Environment;
  logLevel: LogLevel;
  corsAllowedOrigins: string[];
  /** The API's own public URL: OAuth redirects, the sandbox. */
  appBaseUrl: string;
  /** The integrator's app, where emailed links lead (/verify-email, /reset-password, /forgot-password). */
  appLinkBaseUrl: string;
  /**
   * Where a connect hand-off may send the browser back (`return_to`, docs/contract.md "Providers, connections and data"):
   * exact URLs, or `scheme://host:*` for any port and path on that host (development default).
   */
  connectReturnUrls: string[];
  jwt: {
    issuer: string;
    audience: string;
    /** First key signs; every key verifies (rotation window). */
    signingKeys: SigningKey[];
  };
  tokens: {
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
    refreshReuseGraceSeconds: number;
    emailVerificationTtlSeconds: number;
    passwordResetTtlSeconds: number;
    /** HMAC key deriving a refresh token's successor, so concurrent refreshes get the same one. */
    refreshSecret: CryptoKey;
    /** HMAC key for MFA backup codes at rest (HKDF from REFRESH_TOKEN_SECRET, its own label). */
    backupCodeKey: CryptoKey;
  };
  lockout: { threshold: number; durationSeconds: number };
  /** scrypt cost of new password hashes: OWASP's unless ENVIRONMENT=test lowers it. */
  passwordHash: ScryptParams;
  email: {
    transport: "outbox" | "resend" | "cloudflare";
    from: string;
    resendApiKey: string | null;
    /** The email queue consumer's retries (src/email/config.ts). */
    retry: EmailRetry;
  };
  adminEmails: string[];
  /** Token-bucket rules (src/services/rate-rules.ts), with RATE_LIMITS overrides applied. */
  rateLimits: Rules;
  /** Provider settings (src/providers/config.ts). */
  providers: ProvidersConfig;
  /** Keyring for provider credentials at rest (src/crypto/keyring.ts). */
  encryption: { keyring: Keyring };
  /** The sync engine (src/services/sync/config.ts). */
  sync: SyncConfig;
}

const csv = z
  .string()
  .default("")
  .transform((s) =>
    s
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean),
  );

/** A comma-separated list that is absent (undefined: use the environment's default) or given. */
const optionalCsv = z
  .string()
  .optional()
  .transform((s) =>
    s === undefined
      ? undefined
      : s
          .split(",")
          .map((v) => v.trim())
          .filter(Boolean),
  );

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** A base64 secret of at least 32 bytes that does not look like a placeholder. */
const secret32 = z.string({ error: "is required" }).superRefine((s, ctx) => {
  const bytes = base64Bytes(s);
  const weak = bytes ? weakSecretReason(bytes) : "is not base64";
  if (weak) ctx.addIssue({ code: "custom", message: `must be base64 of at least 32 random bytes: ${weak}` });
});

const origin = z.string().refine((s) => {
  try {
    return new URL(s).origin === s;
  } catch {
    return false;
  }
}, "must be an origin such as https://app.example.com (scheme, host, optional port; no path)");

const jwkList = z
  .string({ error: "is required" })
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be a JSON array of private JWKs" });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(
        z.looseObject({
          kty: z.literal("EC"),
          crv: z.literal("P-256"),
          kid: z.string().min(8, "kid must be at least 8 characters"),
          d: z.string().min(40, "must be a private key (d)"),
          x: z.string(),
          y: z.string(),
        }),
        { error: "must be a JSON array of EC P-256 private JWKs" },
      )
      .min(1, "must list at least one key")
      .refine((keys) => new Set(keys.map((k) => k.kid)).size === keys.length, "kids must be unique"),
  );

/** An allow-list entry for `return_to`: an absolute http(s) URL without fragment, or `scheme://host:*`. */
const returnUrl = z.string().refine((s) => {
  if (/^https?:\/\/[^/:?#]+:\*$/.test(s)) return true;
  try {
    const u = new URL(s);
    return (u.protocol === "https:" || u.protocol === "http:") && u.hash === "" && u.href === s;
  } catch {
    return false;
  }
}, "must be absolute http(s) URLs (no fragment), or scheme://host:* for any port");

/** Outside production, where the API is served unless APP_BASE_URL says otherwise. */
const DEV_BASE_URL = "http://localhost:8787";

/** Outside production, the usual local app servers (React/Vite dev servers) may call the API. */
const DEV_APP_ORIGINS = ["http://localhost:3000", "http://localhost:5173"];

/** Outside production, local apps may receive the connect hand-off on any port. */
const DEV_RETURN_URLS = ["http://localhost:*", "http://127.0.0.1:*"];

/** What the Worker's env must hold; parsed once, then used only through `Config`. */
const EnvSchema = z
  .object({
    ENVIRONMENT: z.enum(ENVIRONMENTS),
    LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
    CORS_ALLOWED_ORIGINS: optionalCsv.pipe(z.array(origin).optional()),
    APP_BASE_URL: z.url().optional(),
    APP_LINK_BASE_URL: z.url().optional(),
    CONNECT_RETURN_URLS: optionalCsv.pipe(z.array(returnUrl).optional()),
    JWT_ISSUER: z.string().min(1).default("ledgerlink"),
    JWT_AUDIENCE: z.string().min(1).default("ledgerlink-api"),
    JWT_SIGNING_KEYS: jwkList,
    REFRESH_TOKEN_SECRET: secret32,
    ACCESS_TOKEN_TTL_SECONDS: int(900, 60, 3600),
    REFRESH_TOKEN_TTL_SECONDS: int(30 * 86400, 3600, 365 * 86400),
    REFRESH_REUSE_GRACE_SECONDS: int(10, 0, 60),
    EMAIL_VERIFICATION_TTL_SECONDS: int(86400, 300, 7 * 86400),
    PASSWORD_RESET_TTL_SECONDS: int(1800, 300, 86400),
    LOCKOUT_THRESHOLD: int(10, 3, 100),
    LOCKOUT_DURATION_SECONDS: int(3600, 60, 86400),
    PASSWORD_HASH_COST: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (s === undefined) return OWASP_SCRYPT;
        const params = parseScryptParams(s);
        if (!params) {
          ctx.addIssue({ code: "custom", message: "must read ln=<n>,r=<n>,p=<n> with N·r·p <= 2^20" });
          return z.NEVER;
        }
        return params;
      }),
    EMAIL_TRANSPORT: z.enum(["outbox", "resend", "cloudflare"]).default("outbox"),
    /** Cloudflare Email Service's `send_email` binding (wrangler.toml `[[send_email]] name = "EMAIL"`). */
    EMAIL: z.custom<{ send: unknown }>((v) => typeof v === "object" && v !== null && "send" in v).optional(),
    EMAIL_FROM: z.string().min(3).default("Ledgerlink <no-reply@ledgerlink.local>"),
    RESEND_API_KEY: z.string().min(10).optional(),
    ADMIN_EMAILS: csv.pipe(z.array(z.email().transform((e) => e.toLowerCase()))),
    RATE_LIMITS: RateLimitsSchema,
    ...emailEnvShape,
    ...providerEnvShape,
    ...syncEnvShape,
  })
  .superRefine((env, ctx) => {
    refineProviderEnv(env, ctx);
    refineSyncEnv(env, ctx);
    refineEmailEnv(env, ctx);
    // Only the test suite may hash below OWASP's cost, to keep the inner loop fast.
    if (env.ENVIRONMENT !== "test" && belowOwasp(env.PASSWORD_HASH_COST)) {
      ctx.addIssue({
        code: "custom",
        path: ["PASSWORD_HASH_COST"],
        message: "may be lowered below OWASP's ln=14,r=8,p=5 only when ENVIRONMENT=test",
      });
    }
    if (env.EMAIL_TRANSPORT === "resend" && !env.RESEND_API_KEY) {
      ctx.addIssue({ code: "custom", path: ["RESEND_API_KEY"], message: "is required when EMAIL_TRANSPORT=resend" });
    }
    if (env.EMAIL_TRANSPORT === "cloudflare" && !env.EMAIL) {
      ctx.addIssue({
        code: "custom",
        path: ["EMAIL"],
        message: 'needs a send_email binding named EMAIL (wrangler.toml [[send_email]] name = "EMAIL")',
      });
    }
    if (env.ENVIRONMENT !== "production") return;
    // Production must name its own origin; the development default would be wrong there.
    if (env.APP_BASE_URL === undefined) {
      ctx.addIssue({ code: "custom", path: ["APP_BASE_URL"], message: "is required in production" });
    } else if (!env.APP_BASE_URL.startsWith("https://")) {
      ctx.addIssue({ code: "custom", path: ["APP_BASE_URL"], message: "must be https in production" });
    }
    // Emailed links lead to the integrator's app (its pages), which the API does not serve there.
    if (env.APP_LINK_BASE_URL === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["APP_LINK_BASE_URL"],
        message: "is required in production: the app serving /verify-email, /reset-password and /forgot-password",
      });
    } else if (!env.APP_LINK_BASE_URL.startsWith("https://")) {
      ctx.addIssue({ code: "custom", path: ["APP_LINK_BASE_URL"], message: "must be https in production" });
    }
    for (const u of env.CONNECT_RETURN_URLS ?? []) {
      if (!u.startsWith("https://") || u.endsWith(":*")) {
        ctx.addIssue({
          code: "custom",
          path: ["CONNECT_RETURN_URLS"],
          message: "every entry must be an exact https URL in production",
        });
        break;
      }
    }
    if (env.EMAIL_TRANSPORT === "outbox") {
      ctx.addIssue({ code: "custom", path: ["EMAIL_TRANSPORT"], message: "production must really send email" });
    }
    // Production refuses what is only fit for a laptop (docs/design.md "Secrets").
    if (env.JWT_SIGNING_KEYS.some((k) => k.kid.startsWith("dev-"))) {
      ctx.addIssue({
        code: "custom",
        path: ["JWT_SIGNING_KEYS"],
        message: "development keys (kid dev-*) are refused in production",
      });
    }
    for (const o of env.CORS_ALLOWED_ORIGINS ?? []) {
      if (!o.startsWith("https://")) {
        ctx.addIssue({
          code: "custom",
          path: ["CORS_ALLOWED_ORIGINS"],
          message: "every origin must be https in production",
        });
        break;
      }
    }
  });

// The secrets `npm run setup:cloudflare` checks before a deploy (src/config-requirements.ts) are
// keys this schema reads: renaming one here fails to compile until the shared list follows.
const _checkedSecrets: readonly (keyof z.input<typeof EnvSchema>)[] = SECRET_NAMES;

/** A configuration problem: the key that is wrong and why, never its value. */
export interface ConfigIssue {
  key: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(`invalid configuration: ${issues.map((i) => i.key).join(", ")}`);
    this.name = "ConfigError";
  }
}

type EnvInput = Record<string, unknown>;

async function importSigningKeys(jwks: JWK[]): Promise<SigningKey[]> {
  return Promise.all(
    jwks.map(async (jwk) => {
      const { d: _d, ...publicJwk } = jwk;
      const privateKey = (await importJWK({ ...jwk, alg: "ES256" }, "ES256")) as CryptoKey;
      return {
        kid: jwk.kid as string,
        privateKey,
        publicJwk: {
          kty: publicJwk.kty,
          crv: publicJwk.crv,
          x: publicJwk.x,
          y: publicJwk.y,
          kid: jwk.kid,
          alg: "ES256",
          use: "sig",
        },
      };
    }),
  );
}

/** An HMAC-SHA-256 key derived from a secret for one purpose (HKDF, RFC 5869), so purposes never share a key. */
async function deriveHmacKey(secret: Uint8Array, info: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: new TextEncoder().encode(info) },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
}

/**
 * wrangler.toml declares every variable (so each can be set in .dev.vars) with "" for "not set":
 * empty strings are dropped before validation, so they mean the default.
 */
function withoutEmpty(env: EnvInput): EnvInput {
  const out: EnvInput = {};
  for (const [k, v] of Object.entries(env)) if (v !== "") out[k] = v;
  return out;
}

/** Validates the env and builds the typed Config; throws ConfigError listing bad keys only. */
export async function parseConfig(env: EnvInput): Promise<Config> {
  const parsed = EnvSchema.safeParse(withoutEmpty({ ...env, ENVIRONMENT: effectiveEnvironment(env) }));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ key: String(i.path[0] ?? "env"), message: i.message })));
  }
  const e = parsed.data;
  let signingKeys: SigningKey[];
  try {
    signingKeys = await importSigningKeys(e.JWT_SIGNING_KEYS as JWK[]);
  } catch {
    throw new ConfigError([{ key: "JWT_SIGNING_KEYS", message: "a key could not be imported as ES256" }]);
  }
  const secretBytes = base64Bytes(e.REFRESH_TOKEN_SECRET) ?? new Uint8Array();
  const refreshSecret = await crypto.subtle.importKey("raw", secretBytes, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const backupCodeKey = await deriveHmacKey(secretBytes, "ledgerlink mfa backup codes v1");
  const { providers, encryption } = await buildProviderConfig(e, refreshSecret);
  return {
    environment: e.ENVIRONMENT,
    logLevel: e.LOG_LEVEL,
    corsAllowedOrigins: e.CORS_ALLOWED_ORIGINS ?? (e.ENVIRONMENT === "production" ? [] : DEV_APP_ORIGINS),
    appBaseUrl: (e.APP_BASE_URL ?? DEV_BASE_URL).replace(/\/$/, ""),
    // Outside production the API serves minimal pages for the links itself (src/routes/dev-pages.ts).
    appLinkBaseUrl: (e.APP_LINK_BASE_URL ?? e.APP_BASE_URL ?? DEV_BASE_URL).replace(/\/$/, ""),
    connectReturnUrls: e.CONNECT_RETURN_URLS ?? (e.ENVIRONMENT === "production" ? [] : DEV_RETURN_URLS),
    jwt: { issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE, signingKeys },
    tokens: {
      accessTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS,
      refreshReuseGraceSeconds: e.REFRESH_REUSE_GRACE_SECONDS,
      emailVerificationTtlSeconds: e.EMAIL_VERIFICATION_TTL_SECONDS,
      passwordResetTtlSeconds: e.PASSWORD_RESET_TTL_SECONDS,
      refreshSecret,
      backupCodeKey,
    },
    lockout: { threshold: e.LOCKOUT_THRESHOLD, durationSeconds: e.LOCKOUT_DURATION_SECONDS },
    passwordHash: e.PASSWORD_HASH_COST,
    email: {
      transport: e.EMAIL_TRANSPORT,
      from: e.EMAIL_FROM,
      resendApiKey: e.RESEND_API_KEY ?? null,
      retry: buildEmailRetry(e),
    },
    adminEmails: e.ADMIN_EMAILS,
    rateLimits: e.RATE_LIMITS,
    providers,
    encryption,
    sync: buildSyncConfig(e),
  };
}

// The env object is stable for an isolate, so the config is parsed (and keys imported) once.
const cache = new WeakMap<object, Promise<Config>>();

/** The validated config for this env, parsed once per isolate. */
export function loadConfig(env: object): Promise<Config> {
  let pending = cache.get(env);
  if (!pending) {
    pending = parseConfig(env as EnvInput);
    cache.set(env, pending);
  }
  return pending;
}
