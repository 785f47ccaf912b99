import { env } from "cloudflare:workers";
// @ts-expect-error: plain ESM helper without type declarations.
import { newEncryptionKey, newSigningJwk } from "../../scripts/lib/secrets.mjs";

/** The test env turned into a valid production configuration (https, real keys, real email). */
export function productionEnv(): Env {
  // Test-only settings (the lowered password-hash cost) are not part of a production env.
  const { PASSWORD_HASH_COST: _, ...rest } = env as Env & { PASSWORD_HASH_COST?: string };
  return {
    ...rest,
    ENVIRONMENT: "production",
    APP_BASE_URL: "https://api.example.com",
    APP_LINK_BASE_URL: "https://app.example.com",
    CORS_ALLOWED_ORIGINS: "https://app.example.com",
    JWT_SIGNING_KEYS: JSON.stringify([newSigningJwk("prod")]),
    ENCRYPTION_KEYS: newEncryptionKey("prod"),
    EMAIL_TRANSPORT: "resend",
    RESEND_API_KEY: "re_test_key_123",
  } as Env;
}
