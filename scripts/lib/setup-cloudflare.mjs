// `npm run setup:cloudflare`: what the Worker needs in a Cloudflare account, derived from
// wrangler.toml (planSetup, pure), and the run that looks each thing up, creates what is missing,
// writes the deploy config, checks settings and secrets, applies D1 migrations and deploys
// (runSetup, against an injected `wrangler` so tests can stand in for Cloudflare).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, relative, resolve } from "node:path";
import { experimental_readRawConfig } from "wrangler";
import { productionSettingProblems, secretRules, unmetSecrets } from "../../src/config-requirements.ts";
import { ROOT } from "./local.mjs";

/** wrangler.toml's stand-in database_id: the real one lives only in the deploy config. */
export const PLACEHOLDER_DATABASE_ID = "00000000-0000-0000-0000-000000000000";
/** The generated, uncommitted config every deploy goes through (beside wrangler.toml, so its paths hold). */
export const DEPLOY_CONFIG_NAME = "wrangler.deploy.jsonc";

/** The metrics binding and dataset every query in ops/analytics/ reads (docs/operations.md). */
export const METRICS = (({ binding, dataset }) => ({ binding, dataset }))(
  JSON.parse(readFileSync(resolve(ROOT, "ops/analytics/contract.json"), "utf8")),
);

/** wrangler.toml as written (relative paths, no defaults filled in), parsed by wrangler itself. */
export function readRawConfig(path) {
  return experimental_readRawConfig({ config: path }).rawConfig;
}

/** Where the deploy config generated from `configPath` goes. */
export function deployConfigPathFor(configPath) {
  return resolve(dirname(configPath), DEPLOY_CONFIG_NAME);
}

/** Every account resource the config names: D1 databases, queues (dead-letter queues included), datasets. */
export function resourcesOf(raw) {
  const databases = (raw.d1_databases ?? []).map((d) => ({
    binding: d.binding,
    name: d.database_name,
    configuredId: d.database_id,
    migrations: d.migrations_dir !== undefined,
  }));
  const queues = [];
  const addQueue = (name) => {
    if (name && !queues.includes(name)) queues.push(name);
  };
  for (const p of raw.queues?.producers ?? []) addQueue(p.queue);
  for (const c of raw.queues?.consumers ?? []) {
    addQueue(c.queue);
    addQueue(c.dead_letter_queue);
  }
  const datasets = (raw.analytics_engine_datasets ?? []).map((d) => ({ binding: d.binding, dataset: d.dataset }));
  const sendEmail = (raw.send_email ?? []).map((b) => b.name);
  return { databases, queues, datasets, sendEmail };
}

/**
 * The setup as an ordered list of steps, a pure function of the parsed config: the login check,
 * each resource (its look-up and the create run if it is missing), the deploy config, the
 * production settings, the secrets, the D1 migrations and the deploy.
 */
export function planSetup(
  raw,
  { deployConfig = DEPLOY_CONFIG_NAME, source = "wrangler.toml", metrics = METRICS } = {},
) {
  const { databases, queues, datasets, sendEmail } = resourcesOf(raw);
  const vars = raw.vars ?? {};
  const through = ["--config", deployConfig];
  const steps = [{ kind: "auth", title: "Cloudflare login", lookup: ["whoami", "--json"] }];
  for (const db of databases) {
    steps.push({
      kind: "d1",
      title: `D1 database ${db.name} (binding ${db.binding})`,
      name: db.name,
      binding: db.binding,
      configuredId: db.configuredId,
      lookup: ["d1", "list", "--json"],
      create: ["d1", "create", db.name],
    });
  }
  for (const name of queues) {
    steps.push({
      kind: "queue",
      title: `Queue ${name}`,
      name,
      lookup: ["queues", "info", name],
      create: ["queues", "create", name],
    });
  }
  for (const d of datasets) {
    const other = d.binding === metrics.binding && d.dataset !== metrics.dataset;
    steps.push({
      kind: "dataset",
      title: `Analytics Engine dataset ${d.dataset ?? "(unnamed)"} (binding ${d.binding})`,
      note: other
        ? `declared, but the queries in ops/analytics/ read ${metrics.dataset}; nothing to create`
        : "declared; Cloudflare creates a dataset on its first write, so there is nothing to create",
    });
  }
  if (!datasets.some((d) => d.binding === metrics.binding)) {
    steps.push({
      kind: "dataset",
      title: `Analytics Engine dataset ${metrics.dataset} (binding ${metrics.binding})`,
      note: `not declared in ${source}: no metrics are written until it has [[analytics_engine_datasets]] binding = "${metrics.binding}", dataset = "${metrics.dataset}"`,
    });
  }
  steps.push({
    kind: "deploy-config",
    title: `Deploy config ${deployConfig}`,
    note: `written from ${source} with each D1 database_id from the look-up (not committed)`,
  });
  steps.push({
    kind: "settings",
    title: "Production settings ([vars])",
    problems: productionSettingProblems(vars, sendEmail),
  });
  steps.push({
    kind: "secrets",
    title: "Secrets (names only; no value is ever read)",
    lookup: ["secret", "list", "--format", "json", ...through],
    rules: secretRules(vars),
  });
  for (const db of databases.filter((d) => d.migrations)) {
    steps.push({
      kind: "migrations",
      title: `D1 migrations (binding ${db.binding})`,
      run: ["d1", "migrations", "apply", db.binding, "--remote", ...through],
      // Declining wrangler's confirmation exits 0 too: the deploy waits until none is pending.
      check: ["d1", "migrations", "list", db.binding, "--remote", ...through],
    });
  }
  steps.push({ kind: "deploy", title: "Deploy", run: ["deploy", ...through] });
  return steps;
}

/** A wrangler command as an operator would type it. */
export const shown = (args) => `npx wrangler ${args.join(" ")}`;

const RULE_LABEL = { required: "required", optional: "optional", forbidden: "must not be set" };

/** The plan as text, every wrangler command spelled out (what `--dry-run` prints). */
export function renderPlan(steps) {
  const lines = [];
  steps.forEach((s, i) => {
    lines.push(`${i + 1}. ${s.title}`);
    if (s.kind === "d1" || s.kind === "queue") {
      lines.push(`   look up:      $ ${shown(s.lookup)}`);
      lines.push(`   if missing:   $ ${shown(s.create)}`);
      if (s.kind === "d1") lines.push(`                 then $ ${shown(s.lookup)} again for its id`);
    } else if (s.lookup) {
      lines.push(`   $ ${shown(s.lookup)}`);
    }
    if (s.run) lines.push(`   $ ${shown(s.run)}`);
    if (s.check) lines.push(`   then $ ${shown(s.check)} (must find none pending)`);
    if (s.note) lines.push(`   ${s.note}`);
    if (s.kind === "settings") {
      if (s.problems.length === 0) lines.push("   ok: nothing production refuses");
      else lines.push("   a real run stops before the migrations until these are set:");
      for (const p of s.problems) lines.push(`     ${p.key} ${p.message}`);
    }
    if (s.kind === "secrets") {
      for (const r of s.rules) lines.push(`   ${RULE_LABEL[r.need].padEnd(16)} ${r.name} (${r.why})`);
    }
  });
  return lines;
}

/** The deploy config: the source config with the account's database ids, as JSONC. */
export function deployConfigText(raw, databaseIds, source = "wrangler.toml") {
  const config = { $schema: "node_modules/wrangler/config-schema.json", ...raw };
  if (raw.d1_databases) {
    config.d1_databases = raw.d1_databases.map((d) => ({
      ...d,
      database_id: databaseIds[d.database_name] ?? d.database_id,
    }));
  }
  return [
    `// Generated by \`npm run setup:cloudflare\` from ${source} with this account's resource ids.`,
    `// Not committed. Change ${source} and run the setup again rather than editing this file.`,
    JSON.stringify(config, null, 2),
    "",
  ].join("\n");
}

/** JSON printed by a wrangler command, ignoring any line wrangler prints before it. */
export function parseJsonOutput(stdout) {
  const start = stdout.search(/^[[{]/m);
  if (start < 0) throw new Error("wrangler printed no JSON");
  return JSON.parse(stdout.slice(start));
}

/** Runs `wrangler <args>` from the repository: captured, or on the terminal when `interactive`. */
export function wranglerRunner({ cwd = ROOT, bin = resolve(ROOT, "node_modules/.bin/wrangler") } = {}) {
  return (args, { interactive = false } = {}) => {
    const r = spawnSync(bin, args, {
      cwd,
      encoding: "utf8",
      stdio: interactive ? "inherit" : ["ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    return { status: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  };
}

class SetupError extends Error {}

/**
 * Runs the plan for `configPath`. `dryRun` prints it and calls nothing. Otherwise each look-up
 * and create goes through `wrangler`; the run stops (exit 1) before the migrations and the deploy
 * when a production setting or a secret is missing. Returns the exit code.
 */
export function runSetup({ configPath, dryRun = false, wrangler = wranglerRunner(), log = console.log, cwd = ROOT }) {
  const raw = readRawConfig(configPath);
  const source = relative(cwd, configPath) || basename(configPath);
  const deployConfigPath = deployConfigPathFor(configPath);
  const deployConfig = relative(cwd, deployConfigPath);
  const steps = planSetup(raw, { deployConfig, source });
  if (dryRun) {
    log(`Dry run for ${source}: the plan, with every wrangler command. Nothing is called or written.\n`);
    for (const line of renderPlan(steps)) log(line);
    log("\nA real run creates only what the look-ups do not find, and stops before the migrations");
    log("and the deploy if a production setting or a required secret is missing.");
    return 0;
  }
  try {
    return execute(steps, { raw, source, deployConfigPath, deployConfig, wrangler, log });
  } catch (err) {
    if (!(err instanceof SetupError)) throw err;
    log(`\n✗ ${err.message}`);
    return 1;
  }
}

function execute(steps, { raw, source, deployConfigPath, deployConfig, wrangler, log }) {
  const call = (args, what) => {
    const r = wrangler(args);
    if (r.status !== 0) throw new SetupError(`${what} failed: $ ${shown(args)}\n${r.stderr || r.stdout}`.trim());
    return r;
  };
  let databases;
  const listDatabases = () => parseJsonOutput(call(["d1", "list", "--json"], "Listing D1 databases").stdout);
  const created = [];
  const ids = {};
  let blocked = false;
  for (const [i, s] of steps.entries()) {
    const head = `${i + 1}. ${s.title}:`;
    if (s.kind === "auth") {
      const r = wrangler(s.lookup);
      if (r.status !== 0) {
        throw new SetupError(
          "wrangler is not logged in to Cloudflare (or cannot reach it): run `npx wrangler login` " +
            "(or set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID), then run this again." +
            `\n${r.stderr.trim().split("\n").slice(-3).join("\n")}`.trimEnd(),
        );
      }
      log(`${head} ok`);
    } else if (s.kind === "d1") {
      databases ??= listDatabases();
      let db = databases.find((d) => d.name === s.name);
      if (db) {
        log(`${head} exists (${db.uuid})`);
      } else {
        call(s.create, `Creating D1 database ${s.name}`);
        databases = listDatabases();
        db = databases.find((d) => d.name === s.name);
        if (!db)
          throw new SetupError(`D1 database ${s.name} was created but the list does not show it yet; run again.`);
        created.push(`D1 database ${s.name}`);
        log(`${head} created (${db.uuid})`);
      }
      if (s.configuredId && s.configuredId !== PLACEHOLDER_DATABASE_ID && s.configuredId !== db.uuid) {
        log(`   note: ${source} names database_id ${s.configuredId}; the deploy config uses this account's ${db.uuid}`);
      }
      ids[s.name] = db.uuid;
    } else if (s.kind === "queue") {
      const r = wrangler(s.lookup);
      if (r.status === 0) {
        log(`${head} exists`);
      } else if (/does not exist/i.test(`${r.stdout}${r.stderr}`)) {
        call(s.create, `Creating queue ${s.name}`);
        created.push(`queue ${s.name}`);
        log(`${head} created`);
      } else {
        throw new SetupError(`Looking up queue ${s.name} failed: $ ${shown(s.lookup)}\n${r.stderr || r.stdout}`.trim());
      }
    } else if (s.kind === "dataset") {
      log(`${head} ${s.note}`);
    } else if (s.kind === "deploy-config") {
      log(
        created.length === 0
          ? "   Nothing created: every resource the config names already exists."
          : `   Created: ${created.join(", ")}.`,
      );
      const text = deployConfigText(raw, ids, source);
      const same = existsSync(deployConfigPath) && readFileSync(deployConfigPath, "utf8") === text;
      if (!same) writeFileSync(deployConfigPath, text);
      log(`${head} ${same ? "unchanged" : "written"}`);
    } else if (s.kind === "settings") {
      if (s.problems.length === 0) log(`${head} ok`);
      else {
        blocked = true;
        log(`${head} production would refuse to serve (set these in ${source} [vars]):`);
        for (const p of s.problems) log(`   ${p.key} ${p.message}`);
      }
    } else if (s.kind === "secrets") {
      const set = secretNames(wrangler, s.lookup);
      const { missing, refused } = unmetSecrets(s.rules, set);
      if (missing.length === 0 && refused.length === 0) {
        log(
          `${head} ok (${s.rules
            .filter((r) => set.has(r.name))
            .map((r) => r.name)
            .join(", ")} set)`,
        );
      } else {
        blocked = true;
        log(`${head}`);
        for (const r of missing) log(`   missing  ${r.name} (${r.why}): npx wrangler secret put ${r.name}`);
        for (const r of refused) log(`   remove   ${r.name} (${r.why}): npx wrangler secret delete ${r.name}`);
        log('   How to generate each value: docs/deploy.md "Secrets".');
      }
    } else if (s.kind === "migrations" || s.kind === "deploy") {
      if (blocked) {
        throw new SetupError(
          `Stopped before the migrations and the deploy: fix what is listed above, then run \`npm run setup:cloudflare\` again.`,
        );
      }
      log(`${head} $ ${shown(s.run)}`);
      const r = wrangler(s.run, { interactive: true });
      if (r.status !== 0) throw new SetupError(`${s.title} failed (exit ${r.status}).`);
      if (s.check) {
        const c = wrangler(s.check);
        if (c.status !== 0 || !/No migrations to apply/.test(`${c.stdout}${c.stderr}`)) {
          throw new SetupError(
            `Migrations are still pending (declined, or failed): not deploying. $ ${shown(s.check)}`,
          );
        }
      }
    }
  }
  const base = String(raw.vars?.APP_BASE_URL || "<APP_BASE_URL>").replace(/\/$/, "");
  log(`\n✓ Deployed through ${deployConfig}. Check it: curl ${base}/health/ready (docs/deploy.md).`);
  return 0;
}

/** The names of the Worker's secrets; none when the Worker has not been created yet. */
function secretNames(wrangler, lookup) {
  const r = wrangler(lookup);
  if (r.status !== 0) {
    if (/not found/i.test(`${r.stdout}${r.stderr}`)) return new Set();
    throw new SetupError(`Listing secrets failed: $ ${shown(lookup)}\n${r.stderr || r.stdout}`.trim());
  }
  return new Set(parseJsonOutput(r.stdout).map((s) => s.name));
}
