import { describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM helper without type declarations.
import { newEncryptionKey, newSigningJwk } from "../../scripts/lib/secrets.mjs";
import { ConfigError, parseConfig } from "../../src/config";
import { productionSettingProblems, SECRET_NAMES, secretRules, unmetSecrets } from "../../src/config-requirements";

// `npm run setup:cloudflare` decides from src/config-requirements.ts which secrets and settings a
// deployment needs; these tests hold that list to what parseConfig really accepts and refuses.

const secretValues: Record<string, string> = {
  JWT_SIGNING_KEYS: JSON.stringify([newSigningJwk("prod")]),
  REFRESH_TOKEN_SECRET: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))),
  ENCRYPTION_KEYS: newEncryptionKey("k"),
  SCHWAB_CLIENT_SECRET: "schwab-app-secret-for-tests",
  ALPACA_CLIENT_SECRET: "alpaca-app-secret-for-tests",
  GOCARDLESS_SECRET_ID: "gocardless-secret-id-for-tests",
  GOCARDLESS_SECRET_KEY: "gocardless-secret-key-for-tests",
  RESEND_API_KEY: "resend-key-for-tests",
};

const production = {
  ENVIRONMENT: "production",
  APP_BASE_URL: "https://api.example.com",
  APP_LINK_BASE_URL: "https://app.example.com",
};
const emailBinding = { send: async () => ({}) };

/** Deployments that differ in what they need: each email transport, Schwab and Alpaca on and off. */
const variants: {
  label: string;
  vars: Record<string, string>;
  bindings: Record<string, unknown>;
  sendEmail: string[];
}[] = [
  { label: "resend", vars: { ...production, EMAIL_TRANSPORT: "resend" }, bindings: {}, sendEmail: [] },
  {
    label: "cloudflare email + Schwab",
    vars: { ...production, EMAIL_TRANSPORT: "cloudflare", SCHWAB_CLIENT_ID: "schwab-app-key" },
    bindings: { EMAIL: emailBinding },
    sendEmail: ["EMAIL"],
  },
  {
    label: "resend + Alpaca",
    vars: { ...production, EMAIL_TRANSPORT: "resend", ALPACA_CLIENT_ID: "alpaca-client-id" },
    bindings: {},
    sendEmail: [],
  },
];

/** The env a deployment of `vars` has when exactly the secrets the rules require are set. */
function deployedEnv(vars: Record<string, string>, bindings: Record<string, unknown>) {
  const env: Record<string, unknown> = { ...vars, ...bindings, LOG_LEVEL: "silent" };
  for (const rule of secretRules(vars)) if (rule.need === "required") env[rule.name] = secretValues[rule.name];
  return env;
}

async function issueKeys(env: Record<string, unknown>): Promise<string[]> {
  try {
    await parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => i.key);
  }
  return [];
}

describe("config requirements shared with the deploy script", () => {
  it("lists a rule for every secret the config reads", () => {
    expect(secretRules({}).map((r) => r.name)).toEqual([...SECRET_NAMES]);
  });

  for (const { label, vars, bindings, sendEmail } of variants) {
    describe(label, () => {
      it("starts with exactly the required secrets, and the settings check finds nothing", async () => {
        expect(productionSettingProblems(vars, sendEmail)).toEqual([]);
        expect(await issueKeys(deployedEnv(vars, bindings))).toEqual([]);
      });

      it("refuses to start without each required secret", async () => {
        for (const rule of secretRules(vars).filter((r) => r.need === "required")) {
          const env = deployedEnv(vars, bindings);
          delete env[rule.name];
          expect(await issueKeys(env), rule.name).toContain(rule.name);
        }
      });

      it("starts with an optional secret set too (with its pair), and refuses a forbidden one", async () => {
        for (const rule of secretRules(vars).filter((r) => r.need !== "required")) {
          const pair = rule.pairedWith ? { [rule.pairedWith]: secretValues[rule.pairedWith] } : {};
          const keys = await issueKeys({
            ...deployedEnv(vars, bindings),
            ...pair,
            [rule.name]: secretValues[rule.name],
          });
          if (rule.need === "optional") expect(keys, rule.name).toEqual([]);
          else expect(keys.length, rule.name).toBeGreaterThan(0);
        }
      });

      it("refuses half of a pair, and the check names the other half as missing", async () => {
        const rules = secretRules(vars);
        for (const rule of rules.filter((r) => r.pairedWith !== undefined)) {
          const alone = await issueKeys({ ...deployedEnv(vars, bindings), [rule.name]: secretValues[rule.name] });
          expect(alone, rule.name).toContain(rule.pairedWith);
          const set = new Set([...rules.filter((r) => r.need === "required").map((r) => r.name), rule.name]);
          expect(unmetSecrets(rules, set).missing.map((r) => r.name)).toEqual([rule.pairedWith]);
        }
      });
    });
  }

  it("flags the settings production refuses, under the key the config names", async () => {
    const resend = variants[0] as (typeof variants)[number];
    const broken: Record<string, string | undefined>[] = [
      { APP_BASE_URL: "" },
      { APP_BASE_URL: "http://api.example.com" },
      { APP_LINK_BASE_URL: "" },
      { EMAIL_TRANSPORT: "" },
      { EMAIL_TRANSPORT: "outbox" },
      { EMAIL_TRANSPORT: "cloudflare" }, // without a send_email binding
    ];
    for (const change of broken) {
      const vars = { ...resend.vars, ...change } as Record<string, string>;
      const flagged = productionSettingProblems(vars, []).map((p) => p.key);
      expect(flagged, JSON.stringify(change)).toHaveLength(1);
      expect(await issueKeys(deployedEnv(vars, {})), JSON.stringify(change)).toContain(flagged[0]);
    }
  });
});
