/**
 * The provider and credential-encryption part of the env schema, kept beside the code it
 * configures; src/config.ts merges it into the one EnvSchema and builds `Config.providers` and
 * `Config.encryption` from it.
 */
import { z } from "zod";
import { createKeyring, type Keyring, KeyringError, parseKeyring } from "../crypto/keyring";
import { weakSecretReason } from "../crypto/secret-strength";

/** Production refuses keyring entries whose id starts with this (what `npm run dev` generates). */
export const DEV_KEY_PREFIX = "dev";

const optionalText = z
  .string()
  .trim()
  // wrangler.toml ships `SCHWAB_CLIENT_ID = ""`: empty means "not configured".
  .transform((s) => (s === "" ? undefined : s))
  .optional();

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });

const keyringSecret = z.string({ error: "is required" }).superRefine((s, ctx) => {
  try {
    parseKeyring(s);
  } catch (err) {
    // KeyringError messages name the entry by position, never key material.
    ctx.addIssue({ code: "custom", message: err instanceof KeyringError ? err.message : "is malformed" });
  }
});

const ms = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** Env keys for providers and encryption at rest (README "Configuration"). */
export const providerEnvShape = {
  /** `id:base64key[,id:base64key...]`, newest first (src/crypto/keyring.ts). */
  ENCRYPTION_KEYS: keyringSecret,
  /** Schwab app key: public (it is in every authorize URL), so a [vars] entry; empty = Schwab off. */
  SCHWAB_CLIENT_ID: optionalText,
  /** Schwab app secret (a Wrangler secret). */
  SCHWAB_CLIENT_SECRET: optionalText,
  SCHWAB_BASE_URL: httpUrl.default("https://api.schwabapi.com"),
  /** Time to response headers for one provider call. */
  PROVIDER_CONNECT_TIMEOUT_MS: ms(5_000, 100, 60_000),
  /** Time for one whole provider call, body included. */
  PROVIDER_TIMEOUT_MS: ms(20_000, 1_000, 120_000),
  /** How long before a refresh token dies a connection is flagged `reauth_recommended`. */
  CONNECTION_REAUTH_WARNING_HOURS: z.coerce.number().int().min(1).max(144).default(48),
  /** Alpaca Connect app (public client id in [vars], secret a Wrangler secret); empty = Alpaca off. */
  ALPACA_CLIENT_ID: optionalText,
  ALPACA_CLIENT_SECRET: optionalText,
  /** GoCardless Bank Account Data app secrets (Wrangler secrets, both or neither); empty = off. */
  GOCARDLESS_SECRET_ID: optionalText,
  GOCARDLESS_SECRET_KEY: optionalText,
  GOCARDLESS_BASE_URL: httpUrl.default("https://bankaccountdata.gocardless.com/api/v2"),
  /** SimpleFIN needs no app credentials (the user brings a setup token); "false" turns it off. */
  SIMPLEFIN_ENABLED: z
    .union([z.boolean(), z.enum(["true", "false"])])
    .default(true)
    .transform((v) => v === true || v === "true"),
  /** Days before a consent (or Schwab's 7-day login) ends that its owner is emailed once. */
  CONSENT_WARNING_DAYS: z.coerce.number().int().min(1).max(60).default(7),
};

type ProviderEnv = {
  ENVIRONMENT: string;
  ENCRYPTION_KEYS: string;
  SCHWAB_CLIENT_ID?: string | undefined;
  SCHWAB_CLIENT_SECRET?: string | undefined;
  SCHWAB_BASE_URL: string;
  PROVIDER_CONNECT_TIMEOUT_MS: number;
  PROVIDER_TIMEOUT_MS: number;
  CONNECTION_REAUTH_WARNING_HOURS: number;
  ALPACA_CLIENT_ID?: string | undefined;
  ALPACA_CLIENT_SECRET?: string | undefined;
  GOCARDLESS_SECRET_ID?: string | undefined;
  GOCARDLESS_SECRET_KEY?: string | undefined;
  GOCARDLESS_BASE_URL: string;
  SIMPLEFIN_ENABLED: boolean;
  CONSENT_WARNING_DAYS: number;
};

/** Both of a pair, or neither: half a credential configures nothing and is refused. */
function bothOrNeither(
  env: ProviderEnv,
  ctx: z.RefinementCtx,
  a: keyof ProviderEnv,
  b: keyof ProviderEnv,
  what: string,
) {
  if (Boolean(env[a]) === Boolean(env[b])) return;
  ctx.addIssue({
    code: "custom",
    path: [env[a] ? b : a],
    message: `set both ${a} and ${b}, or neither (${what} not offered)`,
  });
}

/** Cross-field rules; called from EnvSchema's superRefine. */
export function refineProviderEnv(env: ProviderEnv, ctx: z.RefinementCtx) {
  bothOrNeither(env, ctx, "SCHWAB_CLIENT_ID", "SCHWAB_CLIENT_SECRET", "Schwab");
  bothOrNeither(env, ctx, "ALPACA_CLIENT_ID", "ALPACA_CLIENT_SECRET", "Alpaca");
  bothOrNeither(env, ctx, "GOCARDLESS_SECRET_ID", "GOCARDLESS_SECRET_KEY", "GoCardless");
  if (env.PROVIDER_CONNECT_TIMEOUT_MS > env.PROVIDER_TIMEOUT_MS) {
    ctx.addIssue({
      code: "custom",
      path: ["PROVIDER_CONNECT_TIMEOUT_MS"],
      message: "must not exceed PROVIDER_TIMEOUT_MS",
    });
  }
  if (env.ENVIRONMENT !== "production") return;
  let entries: { id: string; key: Uint8Array }[] = [];
  try {
    entries = parseKeyring(env.ENCRYPTION_KEYS);
  } catch {
    return; // already reported by the field schema
  }
  const ids = entries.map((k) => k.id);
  entries.forEach((entry, i) => {
    const weak = weakSecretReason(entry.key);
    // Named by position, never by key material.
    if (weak) ctx.addIssue({ code: "custom", path: ["ENCRYPTION_KEYS"], message: `key ${i + 1} ${weak}` });
  });
  if (ids.some((id) => id.startsWith(DEV_KEY_PREFIX))) {
    ctx.addIssue({
      code: "custom",
      path: ["ENCRYPTION_KEYS"],
      message: `development keys (id ${DEV_KEY_PREFIX}*) are refused in production`,
    });
  }
  for (const key of ["SCHWAB_BASE_URL", "GOCARDLESS_BASE_URL"] as const) {
    if (!env[key].startsWith("https://"))
      ctx.addIssue({ code: "custom", path: [key], message: "must be https in production" });
  }
}

/** Client credentials and base URL of a Schwab-compatible API. */
export interface SchwabSettings {
  clientId: string;
  clientSecret: string;
  baseUrl: string;
}

/** What the provider registry and the connection services read. */
export interface ProvidersConfig {
  /** null when SCHWAB_CLIENT_ID/SECRET are not set: Schwab is then not offered. */
  schwab: SchwabSettings | null;
  /** null when ALPACA_CLIENT_ID/SECRET are not set. */
  alpaca: { clientId: string; clientSecret: string } | null;
  /** null when GOCARDLESS_SECRET_ID/KEY are not set. */
  gocardless: { secretId: string; secretKey: string; baseUrl: string } | null;
  simplefin: boolean;
  /**
   * The in-process simulators (docs/contract.md "The sandbox providers"); null in production. One
   * signing secret and one pair of app credentials, derived per deployment.
   */
  sandbox: { secret: string; clientId: string; clientSecret: string } | null;
  timeouts: { connectMs: number; totalMs: number };
  reauthWarningMs: number;
  /** How long before a consent ends its owner is told (email, live event). */
  consentWarningMs: number;
}

async function derive(secret: CryptoKey, label: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", secret, new TextEncoder().encode(label));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Builds the provider settings and the keyring. The sandbox's signing key and client secret are
 * derived from `derivationKey` (an HMAC key the config already holds), so every isolate agrees
 * on them without another secret, and they differ between deployments.
 */
export async function buildProviderConfig(
  env: ProviderEnv,
  derivationKey: CryptoKey,
): Promise<{ providers: ProvidersConfig; encryption: { keyring: Keyring } }> {
  const keyring = await createKeyring(env.ENCRYPTION_KEYS);
  const sandbox =
    env.ENVIRONMENT === "production"
      ? null
      : {
          secret: await derive(derivationKey, "ledgerlink/sandbox/signing"),
          clientId: "ledgerlink-sandbox",
          clientSecret: await derive(derivationKey, "ledgerlink/sandbox/client-secret"),
        };
  return {
    encryption: { keyring },
    providers: {
      schwab:
        env.SCHWAB_CLIENT_ID && env.SCHWAB_CLIENT_SECRET
          ? {
              clientId: env.SCHWAB_CLIENT_ID,
              clientSecret: env.SCHWAB_CLIENT_SECRET,
              baseUrl: env.SCHWAB_BASE_URL.replace(/\/+$/, ""),
            }
          : null,
      alpaca:
        env.ALPACA_CLIENT_ID && env.ALPACA_CLIENT_SECRET
          ? { clientId: env.ALPACA_CLIENT_ID, clientSecret: env.ALPACA_CLIENT_SECRET }
          : null,
      gocardless:
        env.GOCARDLESS_SECRET_ID && env.GOCARDLESS_SECRET_KEY
          ? {
              secretId: env.GOCARDLESS_SECRET_ID,
              secretKey: env.GOCARDLESS_SECRET_KEY,
              baseUrl: env.GOCARDLESS_BASE_URL.replace(/\/+$/, ""),
            }
          : null,
      simplefin: env.SIMPLEFIN_ENABLED,
      sandbox,
      timeouts: { connectMs: env.PROVIDER_CONNECT_TIMEOUT_MS, totalMs: env.PROVIDER_TIMEOUT_MS },
      reauthWarningMs: env.CONNECTION_REAUTH_WARNING_HOURS * 3_600_000,
      consentWarningMs: env.CONSENT_WARNING_DAYS * 86_400_000,
    },
  };
}
