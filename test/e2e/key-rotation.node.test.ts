import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM helper shared with `npm run dev` and the benchmarks.
import { startDevServer } from "../../scripts/lib/local.mjs";
// @ts-expect-error: plain ESM helper without type declarations.
import { devSettings } from "../../scripts/lib/secrets.mjs";
import { client, completeConnect, connectSandbox, d1Many, newUser } from "./support";

// docs/key-rotation.md, run for real: three `wrangler dev` deploys of the same local state,
// with ENCRYPTION_KEYS = k1, then k2,k1 (+ the hourly cron), then k2 alone.
const dir = mkdtempSync(join(tmpdir(), "ledgerlink-rotation-"));
const persistTo = join(dir, "state");
const secrets = devSettings() as Record<string, string>;
const K1 = `k1:${randomBytes(32).toString("base64")}`;
const K2 = `k2:${randomBytes(32).toString("base64")}`;

let deploys = 0;

/**
 * One "deploy": a wrangler dev whose secrets come from an env file with these keys. The first one
 * applies the migrations; the state keeps them for the next two.
 */
async function deploy(keys: string) {
  const envFile = join(dir, `deploy-${++deploys}.env`);
  const lines = { ...secrets, ENCRYPTION_KEYS: keys };
  writeFileSync(
    envFile,
    Object.entries(lines)
      .map(([k, v]) => `${k}='${v}'`)
      .join("\n"),
  );
  return startDevServer({ persistTo, envFile, log: process.env.E2E_LOG === "1", migrate: deploys === 1 });
}

/** The key ids in use, both tables read in one `wrangler d1 execute`. */
const keyIds = () => {
  const [connections = [], states = []] = d1Many(persistTo, [
    "SELECT DISTINCT credentials_key_id AS k FROM connections WHERE credentials_key_id IS NOT NULL",
    "SELECT DISTINCT key_id AS k FROM oauth_states",
  ]);
  return { connections: connections.map((r) => r.k), states: states.map((r) => r.k) };
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("key rotation runbook against wrangler dev", () => {
  it("add key → deploy → re-wrap → retire leaves no row under the old key", { timeout: 240_000 }, async () => {
    // Before: a connection encrypted under k1.
    let server = await deploy(K1);
    let token: string;
    let connectionId: string;
    try {
      token = await newUser(server.url, "rotate");
      const { started, location } = await connectSandbox(server.url, token);
      connectionId = started.connection.id;
      const done = await completeConnect(server.url, token, location);
      expect(done.status).toBe(200);
    } finally {
      await server.stop();
    }
    expect(keyIds().connections).toEqual(["k1"]);

    // Add k2 first, deploy, fire the hourly cron: the re-wrap job moves every row to k2.
    server = await deploy(`${K2},${K1}`);
    try {
      expect((await fetch(`${server.url}/__scheduled?cron=0+*+*+*+*`)).status).toBe(200);
    } finally {
      await server.stop();
    }
    expect(keyIds()).toEqual({ connections: ["k2"], states: ["k2"] });

    // Retire k1: with k2 alone the credentials still decrypt (a forced refresh uses them).
    server = await deploy(K2);
    try {
      const { send } = client(server.url);
      const res = await send(`/api/v1/dev/connections/${connectionId}/refresh`, {
        method: "POST",
        token,
        json: { force: true },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ refreshed: true, connection: { status: "active" } });
    } finally {
      await server.stop();
    }
  });
});
