import { spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM helper shared with `npm run dev`.
import { ROOT } from "../../scripts/lib/local.mjs";

// `npm run secrets:scan` runs secretlint with the repository's rules over every tracked file; this
// proves those rules catch what this project's real secrets look like.
const dir = mkdtempSync(join(tmpdir(), "ledgerlink-secrets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scan(name: string, content: string) {
  const file = join(dir, name);
  writeFileSync(file, content);
  const r = spawnSync(
    resolve(ROOT, "node_modules/.bin/secretlint"),
    ["--secretlintrc", resolve(ROOT, ".secretlintrc.json"), "--maskSecrets", file],
    { cwd: ROOT, encoding: "utf8" },
  );
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("the secret scan", () => {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });

  it("fails on a committed private JWK (JWT_SIGNING_KEYS)", () => {
    const jwk = JSON.stringify([{ ...privateKey.export({ format: "jwk" }), kid: "prod-0123abcd" }]);
    expect(scan("keys.json", `JWT_SIGNING_KEYS='${jwk}'\n`).status).toBe(1);
  });

  it("fails on a PEM private key, a keyring entry, a refresh secret and a Resend API key", () => {
    expect(scan("key.pem", privateKey.export({ format: "pem", type: "pkcs8" }) as string).status).toBe(1);
    expect(scan("keyring.env", `ENCRYPTION_KEYS=k1:${randomBytes(32).toString("base64")}\n`).status).toBe(1);
    expect(scan("refresh.env", `REFRESH_TOKEN_SECRET='${randomBytes(32).toString("base64")}'\n`).status).toBe(1);
    // Assembled at run time so this file itself passes the scan it tests.
    const resendKey = ["re", "9fK2mQ7xLpW4vT8nZ1yB3cD6"].join("_");
    expect(scan("mail.ts", `const key = "${resendKey}";\n`).status).toBe(1);
  });

  it("passes the development placeholders the repository documents", () => {
    const example =
      'JWT_SIGNING_KEYS=\'[{"kty":"EC","crv":"P-256","kid":"dev-0123456789ab","d":"...","x":"...","y":"..."}]\'\n';
    expect(scan("example.env", example)).toMatchObject({ status: 0 });
  });
});
