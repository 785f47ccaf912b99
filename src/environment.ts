/** Which environment the Worker runs as; a leaf module, so the Durable Objects read it too. */

/**
 * The local-only switch (docs/security.md, second pass item 10): `ENVIRONMENT` may say
 * `development` or `test` only together with `LEDGERLINK_LOCAL=1`, which `npm run dev` and the
 * test configuration set and nothing deployed carries (wrangler.toml never declares it). Without
 * it, the Worker behaves as production and runs every production check: one mistaken string can
 * no longer serve the unauthenticated outbox or skip the secret rules.
 */
export const LOCAL_SWITCH = "LEDGERLINK_LOCAL";

/** The environment the Worker really runs as, from its raw env (also read by the Durable Objects). */
export function effectiveEnvironment(env: { ENVIRONMENT?: unknown } & Record<string, unknown>): string {
  const declared = String(env.ENVIRONMENT ?? "");
  if (declared === "development" || declared === "test") return env[LOCAL_SWITCH] === "1" ? declared : "production";
  return declared;
}
