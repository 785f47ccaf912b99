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
  const schwab = setting(vars, "SCHWAB_CLIENT_ID") !== undefined;
  return [
    { name: "JWT_SIGNING_KEYS", need: "required", why: "signs access tokens" },
    { name: "REFRESH_TOKEN_SECRET", need: "required", why: "derives refresh-token successors and backup-code hashes" },
    { name: "ENCRYPTION_KEYS", need: "required", why: "encrypts provider credentials and TOTP secrets at rest" },
    schwab
      ? { name: "SCHWAB_CLIENT_SECRET", need: "required", why: "SCHWAB_CLIENT_ID is set (both or neither)" }
      : {
          name: "SCHWAB_CLIENT_SECRET",
          need: "forbidden",
          why: "SCHWAB_CLIENT_ID is empty, and the config takes both or neither",
        },
    transport === "resend"
      ? { name: "RESEND_API_KEY", need: "required", why: "EMAIL_TRANSPORT is resend" }
      : { name: "RESEND_API_KEY", need: "optional", why: "read only when EMAIL_TRANSPORT=resend" },
  ];
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
