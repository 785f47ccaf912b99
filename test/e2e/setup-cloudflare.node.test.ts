import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM helper shared with `npm run dev`.
import { ROOT } from "../../scripts/lib/local.mjs";
// @ts-expect-error: plain ESM helper behind `npm run setup:cloudflare`.
import * as setup from "../../scripts/lib/setup-cloudflare.mjs";

// `npm run setup:cloudflare` (scripts/setup-cloudflare.mjs): the plan derived from wrangler.toml,
// the dry run on the repository as committed, and real runs against a stand-in for Cloudflare.

type Step = { kind: string; name?: string; binding?: string; lookup?: string[]; create?: string[]; run?: string[] };
type Call = { args: string[]; interactive: boolean };

const dir = mkdtempSync(join(tmpdir(), "ledgerlink-setup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const committed = readFileSync(resolve(ROOT, "wrangler.toml"), "utf8");

/** wrangler.toml as committed plus what the integrator adds next: another queue and the metrics dataset. */
const withQueue = `${committed}
[[queues.producers]]
binding = "EXPORT_QUEUE"
queue = "ledgerlink-export"

[[queues.producers]]
binding = "EXPORT_DLQ"
queue = "ledgerlink-export-dlq"

[[queues.consumers]]
queue = "ledgerlink-export"
dead_letter_queue = "ledgerlink-export-dlq"
`;

/** A config a production deploy accepts: the fixture's [vars] filled in. */
const deployable = withQueue
  .replace('APP_BASE_URL = ""', 'APP_BASE_URL = "https://api.example.com"')
  .replace('APP_LINK_BASE_URL = ""', 'APP_LINK_BASE_URL = "https://app.example.com"')
  .replace('EMAIL_TRANSPORT = ""', 'EMAIL_TRANSPORT = "resend"');

/** A config file of its own folder (where its deploy config is written too). */
function fixture(name: string, text: string): string {
  const folder = join(dir, name);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  const path = join(folder, "wrangler.toml");
  writeFileSync(path, text);
  return path;
}

const plan = (configPath: string): Step[] => setup.planSetup(setup.readRawConfig(configPath));
const shown = (args: string[]) => `npx wrangler ${args.join(" ")}`;

describe("the setup plan", () => {
  it("covers every resource wrangler.toml names, then the checks, the migrations and the deploy, in order", () => {
    const steps = plan(resolve(ROOT, "wrangler.toml"));
    expect(steps.map((s) => s.kind)).toEqual([
      "auth",
      "d1",
      "queue",
      "queue",
      "queue",
      "queue",
      "dataset",
      "deploy-config",
      "settings",
      "secrets",
      "migrations",
      "deploy",
    ]);
    expect(steps.filter((s) => s.kind === "d1").map((s) => s.create)).toEqual([["d1", "create", "ledgerlink"]]);
    expect(steps.filter((s) => s.kind === "queue").map((s) => [s.lookup, s.create])).toEqual([
      [
        ["queues", "info", "ledgerlink-sync"],
        ["queues", "create", "ledgerlink-sync"],
      ],
      [
        ["queues", "info", "ledgerlink-sync-dlq"],
        ["queues", "create", "ledgerlink-sync-dlq"],
      ],
      [
        ["queues", "info", "ledgerlink-email"],
        ["queues", "create", "ledgerlink-email"],
      ],
      [
        ["queues", "info", "ledgerlink-email-dlq"],
        ["queues", "create", "ledgerlink-email-dlq"],
      ],
    ]);
    const through = ["--config", "wrangler.deploy.jsonc"];
    expect(steps.find((s) => s.kind === "secrets")?.lookup).toEqual(["secret", "list", "--format", "json", ...through]);
    expect(steps.find((s) => s.kind === "migrations")?.run).toEqual([
      "d1",
      "migrations",
      "apply",
      "DB",
      "--remote",
      ...through,
    ]);
    expect(steps.at(-1)?.run).toEqual(["deploy", ...through]);
    // The metrics dataset is declared: said, nothing created (Cloudflare creates it on the first write).
    expect(steps.find((s) => s.kind === "dataset")).toMatchObject({
      title: "Analytics Engine dataset ledgerlink_metrics (binding METRICS)",
      note: expect.stringContaining("first write"),
    });
  });

  it("picks up queues, dead-letter queues and datasets added to wrangler.toml, creating no dataset", () => {
    const steps = plan(fixture("export", withQueue));
    expect(steps.filter((s) => s.kind === "queue").map((s) => s.name)).toEqual([
      "ledgerlink-sync",
      "ledgerlink-sync-dlq",
      "ledgerlink-email",
      "ledgerlink-email-dlq",
      "ledgerlink-export",
      "ledgerlink-export-dlq",
    ]);
    const dataset = steps.filter((s) => s.kind === "dataset");
    expect(dataset).toHaveLength(1);
    expect(dataset[0]).toMatchObject({ title: expect.stringContaining("ledgerlink_metrics (binding METRICS)") });
    expect(dataset[0]).not.toHaveProperty("create");
    expect(dataset[0]).toMatchObject({ note: expect.stringContaining("first write") });
    expect(steps.findIndex((s) => s.kind === "dataset")).toBeLessThan(steps.findIndex((s) => s.kind === "secrets"));
  });

  it("derives the required secrets from the settings, as the Worker's config does", () => {
    const need = (configPath: string) =>
      Object.fromEntries(
        (
          plan(configPath).find((s) => s.kind === "secrets") as unknown as { rules: { name: string; need: string }[] }
        ).rules.map((r) => [r.name, r.need]),
      );
    expect(need(resolve(ROOT, "wrangler.toml"))).toEqual({
      JWT_SIGNING_KEYS: "required",
      REFRESH_TOKEN_SECRET: "required",
      ENCRYPTION_KEYS: "required",
      SCHWAB_CLIENT_SECRET: "forbidden",
      ALPACA_CLIENT_SECRET: "forbidden",
      GOCARDLESS_SECRET_ID: "optional",
      GOCARDLESS_SECRET_KEY: "optional",
      RESEND_API_KEY: "optional",
    });
    expect(need(fixture("resend", deployable))).toMatchObject({ RESEND_API_KEY: "required" });
    const alpaca = deployable.replace('ALPACA_CLIENT_ID = ""', 'ALPACA_CLIENT_ID = "alpaca-client-id"');
    expect(need(fixture("alpaca", alpaca))).toMatchObject({ ALPACA_CLIENT_SECRET: "required" });
  });
});

describe("npm run setup:cloudflare -- --dry-run", () => {
  it("prints every command in order on the committed repository, calls nothing and prints no secret", () => {
    const sentinel = "SENTINEL-SECRET-VALUE-0123456789";
    const deployConfig = resolve(ROOT, "wrangler.deploy.jsonc");
    const existed = existsSync(deployConfig);
    const r = spawnSync(process.execPath, ["scripts/setup-cloudflare.mjs", "--dry-run"], {
      cwd: ROOT,
      encoding: "utf8",
      env: {
        ...process.env,
        JWT_SIGNING_KEYS: sentinel,
        REFRESH_TOKEN_SECRET: sentinel,
        ENCRYPTION_KEYS: sentinel,
        CLOUDFLARE_API_TOKEN: sentinel,
      },
    });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    const order = [
      "npx wrangler whoami --json",
      "npx wrangler d1 list --json",
      "npx wrangler d1 create ledgerlink",
      "npx wrangler queues info ledgerlink-sync",
      "npx wrangler queues create ledgerlink-sync",
      "npx wrangler queues info ledgerlink-sync-dlq",
      "npx wrangler queues create ledgerlink-sync-dlq",
      "npx wrangler queues info ledgerlink-email",
      "npx wrangler queues create ledgerlink-email",
      "npx wrangler queues info ledgerlink-email-dlq",
      "npx wrangler queues create ledgerlink-email-dlq",
      "npx wrangler secret list --format json --config wrangler.deploy.jsonc",
      "npx wrangler d1 migrations apply DB --remote --config wrangler.deploy.jsonc",
      "npx wrangler deploy --config wrangler.deploy.jsonc",
    ];
    const at = order.map((cmd) => out.indexOf(cmd));
    expect(
      at.every((i) => i >= 0),
      out,
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    for (const name of ["JWT_SIGNING_KEYS", "REFRESH_TOKEN_SECRET", "ENCRYPTION_KEYS"]) expect(out).toContain(name);
    expect(out + r.stderr).not.toContain(sentinel);
    expect(existsSync(deployConfig)).toBe(existed);
  });

  it("answers --help and refuses an unknown argument", () => {
    const help = spawnSync(process.execPath, ["scripts/setup-cloudflare.mjs", "--help"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--dry-run");
    const bad = spawnSync(process.execPath, ["scripts/setup-cloudflare.mjs", "--deploy-now"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
  });
});

/** A stand-in for wrangler against one Cloudflare account, recording every call. */
function fakeAccount(state: {
  databases: { name: string; uuid: string }[];
  queues: string[];
  secrets: string[] | null;
  declined?: boolean;
}) {
  const calls: Call[] = [];
  const wrangler = (args: string[], { interactive = false } = {}) => {
    calls.push({ args, interactive });
    const ok = (stdout = "") => ({ status: 0, stdout, stderr: "" });
    const [a, b, c] = args;
    if (a === "whoami") return ok("{}");
    if (a === "d1" && b === "list") return ok(`${JSON.stringify(state.databases)}\n`);
    if (a === "d1" && b === "create") {
      state.databases.push({ name: c as string, uuid: `uuid-of-${c}` });
      return ok("created");
    }
    if (a === "queues" && b === "info") {
      return state.queues.includes(c as string)
        ? ok(`Queue Name: ${c}`)
        : { status: 1, stdout: "", stderr: `✘ [ERROR] Queue "${c}" does not exist. To create it, run: ...` };
    }
    if (a === "queues" && b === "create") {
      state.queues.push(c as string);
      return ok();
    }
    if (a === "secret" && b === "list") {
      if (state.secrets === null) return { status: 1, stdout: "", stderr: 'Worker "ledgerlink" not found.' };
      return ok(JSON.stringify(state.secrets.map((name) => ({ name, type: "secret_text" }))));
    }
    if (a === "d1" && b === "migrations" && c === "list") {
      return ok(state.declined ? "Migrations to be applied: 0013_next.sql" : "✅ No migrations to apply!");
    }
    if ((a === "d1" && b === "migrations") || a === "deploy") return ok();
    return { status: 1, stdout: "", stderr: `unexpected: ${args.join(" ")}` };
  };
  return { wrangler, calls };
}

function runAgainst(configPath: string, account: ReturnType<typeof fakeAccount>) {
  const lines: string[] = [];
  const code = setup.runSetup({
    configPath,
    wrangler: account.wrangler,
    log: (l: string) => lines.push(l),
    cwd: resolve(configPath, ".."),
  });
  return { code, out: lines.join("\n") };
}

const ALL_SECRETS = ["JWT_SIGNING_KEYS", "REFRESH_TOKEN_SECRET", "ENCRYPTION_KEYS", "RESEND_API_KEY"];

describe("a real run (against a stand-in for Cloudflare)", () => {
  it("the dry run calls nothing at all", () => {
    const account = fakeAccount({ databases: [], queues: [], secrets: [] });
    const lines: string[] = [];
    const code = setup.runSetup({
      configPath: fixture("dry", deployable),
      dryRun: true,
      wrangler: () => {
        throw new Error("the dry run called wrangler");
      },
      log: (l: string) => lines.push(l),
    });
    expect(code).toBe(0);
    expect(account.calls).toEqual([]);
  });

  it("creates what is missing, writes the deploy config, migrates and deploys; a second run creates nothing", () => {
    const configPath = fixture("fresh", deployable);
    const state = { databases: [], queues: ["ledgerlink-sync"], secrets: ALL_SECRETS };
    const account = fakeAccount(state);
    const first = runAgainst(configPath, account);
    expect(first.code, first.out).toBe(0);
    const creates = account.calls.filter((c) => c.args[1] === "create").map((c) => shown(c.args));
    expect(creates).toEqual([
      "npx wrangler d1 create ledgerlink",
      "npx wrangler queues create ledgerlink-sync-dlq",
      "npx wrangler queues create ledgerlink-email",
      "npx wrangler queues create ledgerlink-email-dlq",
      "npx wrangler queues create ledgerlink-export",
      "npx wrangler queues create ledgerlink-export-dlq",
    ]);
    const deployConfig = join(configPath, "..", "wrangler.deploy.jsonc");
    const written = readFileSync(deployConfig, "utf8");
    expect(written).toContain('"database_id": "uuid-of-ledgerlink"');
    expect(written).not.toContain(setup.PLACEHOLDER_DATABASE_ID);
    const tail = account.calls.slice(-3);
    expect(tail.map((c) => shown(c.args))).toEqual([
      "npx wrangler d1 migrations apply DB --remote --config wrangler.deploy.jsonc",
      "npx wrangler d1 migrations list DB --remote --config wrangler.deploy.jsonc",
      "npx wrangler deploy --config wrangler.deploy.jsonc",
    ]);
    expect(tail.map((c) => c.interactive)).toEqual([true, false, true]);
    expect(first.out).toContain("curl https://api.example.com/health/ready");

    account.calls.length = 0;
    const second = runAgainst(configPath, account);
    expect(second.code, second.out).toBe(0);
    expect(account.calls.filter((c) => c.args[1] === "create")).toEqual([]);
    expect(second.out).toContain("Nothing created: every resource the config names already exists.");
    expect(second.out).toMatch(/Deploy config wrangler\.deploy\.jsonc: unchanged/);
    expect(readFileSync(deployConfig, "utf8")).toBe(written);
  });

  it("stops before the migrations and the deploy while a required secret is missing, naming it", () => {
    const account = fakeAccount({
      databases: [{ name: "ledgerlink", uuid: "u1" }],
      queues: [
        "ledgerlink-sync",
        "ledgerlink-sync-dlq",
        "ledgerlink-email",
        "ledgerlink-email-dlq",
        "ledgerlink-export",
        "ledgerlink-export-dlq",
      ],
      secrets: ["JWT_SIGNING_KEYS", "REFRESH_TOKEN_SECRET", "ENCRYPTION_KEYS", "SCHWAB_CLIENT_SECRET"],
    });
    const { code, out } = runAgainst(fixture("missing", deployable), account);
    expect(code).toBe(1);
    expect(out).toContain("missing  RESEND_API_KEY");
    expect(out).toContain("npx wrangler secret put RESEND_API_KEY");
    expect(out).toContain("remove   SCHWAB_CLIENT_SECRET");
    expect(out).toContain("Stopped before the migrations and the deploy");
    expect(account.calls.some((c) => c.args[0] === "deploy" || c.args[1] === "migrations")).toBe(false);
  });

  it("stops while only half of GoCardless's secret pair is set, naming the other half", () => {
    const account = fakeAccount({
      databases: [{ name: "ledgerlink", uuid: "u1" }],
      queues: [
        "ledgerlink-sync",
        "ledgerlink-sync-dlq",
        "ledgerlink-email",
        "ledgerlink-email-dlq",
        "ledgerlink-export",
        "ledgerlink-export-dlq",
      ],
      secrets: [...ALL_SECRETS, "GOCARDLESS_SECRET_ID"],
    });
    const { code, out } = runAgainst(fixture("half-pair", deployable), account);
    expect(code).toBe(1);
    expect(out).toContain("missing  GOCARDLESS_SECRET_KEY");
    expect(out).toContain("npx wrangler secret put GOCARDLESS_SECRET_KEY");
    expect(out).not.toContain("missing  GOCARDLESS_SECRET_ID");
    expect(account.calls.some((c) => c.args[0] === "deploy" || c.args[1] === "migrations")).toBe(false);
  });

  it("does not deploy while migrations are pending (the operator declined wrangler's confirmation)", () => {
    const account = fakeAccount({
      databases: [{ name: "ledgerlink", uuid: "u1" }],
      queues: [
        "ledgerlink-sync",
        "ledgerlink-sync-dlq",
        "ledgerlink-email",
        "ledgerlink-email-dlq",
        "ledgerlink-export",
        "ledgerlink-export-dlq",
      ],
      secrets: ALL_SECRETS,
      declined: true,
    });
    const { code, out } = runAgainst(fixture("declined", deployable), account);
    expect(code).toBe(1);
    expect(out).toContain("Migrations are still pending");
    expect(account.calls.some((c) => c.args[0] === "deploy")).toBe(false);
  });

  it("treats a Worker that does not exist yet as having no secrets, and reports refused settings", () => {
    const account = fakeAccount({ databases: [], queues: [], secrets: null });
    const { code, out } = runAgainst(fixture("first", committed), account);
    expect(code).toBe(1);
    for (const name of ["JWT_SIGNING_KEYS", "REFRESH_TOKEN_SECRET", "ENCRYPTION_KEYS"]) {
      expect(out).toContain(`npx wrangler secret put ${name}`);
    }
    expect(out).toContain("APP_BASE_URL is required in production");
    expect(account.calls.some((c) => c.args[0] === "deploy")).toBe(false);
  });

  it("says how to log in when wrangler is not authenticated, and changes nothing", () => {
    const account = fakeAccount({ databases: [], queues: [], secrets: [] });
    const wrangler = (args: string[], o?: { interactive?: boolean }) =>
      args[0] === "whoami" ? { status: 1, stdout: "", stderr: "not authenticated" } : account.wrangler(args, o);
    const lines: string[] = [];
    const code = setup.runSetup({
      configPath: fixture("auth", deployable),
      wrangler,
      log: (l: string) => lines.push(l),
    });
    expect(code).toBe(1);
    expect(lines.join("\n")).toContain("npx wrangler login");
    expect(account.calls).toEqual([]);
  });
});
