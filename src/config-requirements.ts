/**
 * What a production deployment must provide beyond wrangler.toml's defaults: the Worker secrets
 * and the settings production refuses to run without. src/config.ts enforces them when the
 * Worker starts; `npm run setup:cloudflare` (scripts/lib/setup-cloudflare.mjs) reads this same
 * file to check a deployment before it ships. test/unit/config-requirements.test.ts proves the
 * two agree. Node loads this file directly (type stripping), so it imports nothing and uses only
 * erasable TypeScript.
 */

/** Every secret src/config.ts reads: set with `wrangler secret put`, never in wrangler.toml. */
export const SECRET_NAMES = [
  "JWT_SIGNING_KEYS",
  "REFRESH_TOKEN_SECRET",
  "ENCRYPTION_KEYS",
  "SCHWAB_CLIENT_SECRET",
  "ALPACA_CLIENT_SECRET",
  "GOCARDLESS_SECRET_ID",
  "GOCARDLESS_SECRET_KEY",
  "RESEND_API_KEY",
] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

/**
 * What one secret must be for the given settings: `required` (the Worker refuses to serve
 * without it), `optional` (unused with these settings), or `forbidden` (set, it makes the
 * configuration invalid).
 */
export interface SecretRule {
  name: SecretName;
  need: "required" | "optional" | "forbidden";
  why: string;
  /**
   * An optional secret that only works with another (GoCardless's secret id and key): set both or
   * neither; one alone makes the configuration invalid.
   */
  pairedWith?: SecretName;
}

type Settings = Record<string, unknown>;

/** A setting as src/config.ts sees it: "" (wrangler.toml's "not set") is absent. */
function setting(vars: Settings, key: string): string | undefined {
  const v = vars[key];
  if (v === undefined || v === null) return undefined;
  const s = String(v).trim();
  return s === "" ? undefined : s;
}

/** The rule for every secret under these settings (wrangler.toml [vars]), in SECRET_NAMES order. */
export function secretRules(vars: Settings): SecretRule[] {
  const transport = setting(vars, "EMAIL_TRANSPORT") ?? "outbox";
  // An app's public client id in [vars] and its secret: both or neither.
  const appSecret = (name: SecretName, idKey: string): SecretRule =>
    setting(vars, idKey) !== undefined
      ? { name, need: "required", why: `${idKey} is set (both or neither)` }
      : { name, need: "forbidden", why: `${idKey} is empty, and the config takes both or neither` };
  const gocardless = (name: SecretName, pairedWith: SecretName): SecretRule => ({
    name,
    need: "optional",
    why: `offers GoCardless banks together with ${pairedWith}: both or neither`,
    pairedWith,
  });
  return [
    { name: "JWT_SIGNING_KEYS", need: "required", why: "signs access tokens" },
    { name: "REFRESH_TOKEN_SECRET", need: "required", why: "derives refresh-token successors and backup-code hashes" },
    { name: "ENCRYPTION_KEYS", need: "required", why: "encrypts provider credentials and TOTP secrets at rest" },
    appSecret("SCHWAB_CLIENT_SECRET", "SCHWAB_CLIENT_ID"),
    appSecret("ALPACA_CLIENT_SECRET", "ALPACA_CLIENT_ID"),
    gocardless("GOCARDLESS_SECRET_ID", "GOCARDLESS_SECRET_KEY"),
    gocardless("GOCARDLESS_SECRET_KEY", "GOCARDLESS_SECRET_ID"),
    transport === "resend"
      ? { name: "RESEND_API_KEY", need: "required", why: "EMAIL_TRANSPORT is resend" }
      : { name: "RESEND_API_KEY", need: "optional", why: "read only when EMAIL_TRANSPORT=resend" },
  ];
}

/**
 * What the secrets set (by name) lack under these rules: `missing`, a required secret or the other
 * half of a pair; `refused`, a forbidden one.
 */
export function unmetSecrets(
  rules: readonly SecretRule[],
  set: ReadonlySet<string>,
): { missing: SecretRule[]; refused: SecretRule[] } {
  const missing = rules.filter(
    (r) => !set.has(r.name) && (r.need === "required" || (r.pairedWith !== undefined && set.has(r.pairedWith))),
  );
  const refused = rules.filter((r) => r.need === "forbidden" && set.has(r.name));
  return { missing, refused };
}

/** A setting production refuses, named with the reason; never with its value. */
export interface SettingProblem {
  key: string;
  message: string;
}

/**
 * The [vars] production refuses to start without (src/config.ts), given the bindings declared
 * (`sendEmailBindings`: the `name` of each `[[send_email]]`). Empty when a deployment of these
 * settings can start; everything else is validated by the Worker itself (`/health/ready`).
 */
export function productionSettingProblems(vars: Settings, sendEmailBindings: readonly string[] = []): SettingProblem[] {
  const problems: SettingProblem[] = [];
  if (setting(vars, "ENVIRONMENT") !== "production") {
    problems.push({ key: "ENVIRONMENT", message: 'must be "production" in the deployed configuration' });
  }
  for (const key of ["APP_BASE_URL", "APP_LINK_BASE_URL"]) {
    const url = setting(vars, key);
    if (url === undefined) problems.push({ key, message: "is required in production" });
    else if (!url.startsWith("https://")) problems.push({ key, message: "must be an https URL in production" });
  }
  const transport = setting(vars, "EMAIL_TRANSPORT") ?? "outbox";
  if (transport !== "resend" && transport !== "cloudflare") {
    problems.push({ key: "EMAIL_TRANSPORT", message: 'must be "resend" or "cloudflare": production must really send' });
  }
  if (transport === "cloudflare" && !sendEmailBindings.includes("EMAIL")) {
    problems.push({ key: "EMAIL", message: 'EMAIL_TRANSPORT=cloudflare needs [[send_email]] name = "EMAIL"' });
  }
  return problems;
}
