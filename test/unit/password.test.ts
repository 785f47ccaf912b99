import { env } from "cloudflare:workers";
import dictionary from "@zxcvbn-ts/language-common/dist/passwords.json.mjs";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { OWASP_SCRYPT, scryptHasher } from "../../src/crypto/password";
import { passwordProblems } from "../../src/services/password-policy";
import { productionEnv } from "../support/production";

const owasp = scryptHasher();
const { hashPassword, verifyPassword, dummyHash } = owasp;

describe("scrypt password hashing", () => {
  it("stores OWASP parameters (N=2^14, r=8, p=5) with the hash", async () => {
    const h = await hashPassword("Tr1cky-Bison-42!");
    expect(h).toMatch(/^\$scrypt\$ln=14,r=8,p=5\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(OWASP_SCRYPT).toEqual({ ln: 14, r: 8, p: 5 });
  });

  it("verifies the right password and refuses a wrong one", async () => {
    const h = await hashPassword("Tr1cky-Bison-42!");
    expect(await verifyPassword("Tr1cky-Bison-42!", h)).toEqual({ ok: true, needsRehash: false });
    expect((await verifyPassword("Tr1cky-Bison-43!", h)).ok).toBe(false);
  });

  it("salts: the same password hashes differently", async () => {
    expect(await hashPassword("same-Passw0rd!")).not.toBe(await hashPassword("same-Passw0rd!"));
  });

  it("flags hashes made with older parameters for upgrade", async () => {
    const old = await scryptHasher({ ln: 12, r: 8, p: 1 }).hashPassword("Tr1cky-Bison-42!");
    expect(await verifyPassword("Tr1cky-Bison-42!", old)).toEqual({ ok: true, needsRehash: true });
  });

  it("refuses malformed hashes and parameters Workers cannot run", async () => {
    expect((await verifyPassword("x", "plaintext")).ok).toBe(false);
    expect((await verifyPassword("x", "$scrypt$ln=20,r=8,p=5$AAAA$AAAA")).ok).toBe(false);
  });

  it("the dummy hash uses the current parameters (equal work for unknown emails)", async () => {
    expect(await dummyHash()).toMatch(/^\$scrypt\$ln=14,r=8,p=5\$/);
  });
});

describe("the hashing cost is a setting only the test environment may lower", () => {
  const lowered = { PASSWORD_HASH_COST: "ln=10,r=8,p=1" };

  it("defaults to OWASP's cost", async () => {
    const { PASSWORD_HASH_COST: _, ...rest } = env as unknown as Record<string, unknown>;
    expect((await parseConfig(rest)).passwordHash).toEqual(OWASP_SCRYPT);
    expect((await parseConfig({ ...productionEnv() })).passwordHash).toEqual(OWASP_SCRYPT);
  });

  it("the test environment may lower it, and hashes then carry the lowered parameters", async () => {
    const config = await parseConfig({ ...env, ...lowered });
    expect(config.passwordHash).toEqual({ ln: 10, r: 8, p: 1 });
    expect(await scryptHasher(config.passwordHash).hashPassword("x")).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
  });

  it("production and development refuse a lowered cost", async () => {
    for (const environment of ["production", "development"]) {
      const attempt = parseConfig({ ...productionEnv(), ENVIRONMENT: environment, ...lowered });
      await expect(attempt).rejects.toMatchObject({
        issues: expect.arrayContaining([expect.objectContaining({ key: "PASSWORD_HASH_COST" })]),
      });
    }
  });

  it("refuses parameters Workers cannot run or that do not parse", async () => {
    for (const bad of ["ln=20,r=8,p=5", "N=16384", "ln=14,r=8"]) {
      await expect(parseConfig({ ...env, PASSWORD_HASH_COST: bad })).rejects.toMatchObject({
        issues: [expect.objectContaining({ key: "PASSWORD_HASH_COST" })],
      });
    }
  });
});

describe("password policy", () => {
  it("accepts a strong password", () => {
    expect(passwordProblems("Tr1cky-Bison-42!")).toEqual([]);
  });

  it("lists every reason at once", () => {
    expect(passwordProblems("abc")).toEqual([
      "must be at least 8 characters",
      "must contain an upper-case letter",
      "must contain a digit",
      "must contain a symbol",
    ]);
    expect(passwordProblems(`Aa1!${"x".repeat(130)}`)).toContain("must be at most 128 characters");
  });

  it("refuses and accepts exactly what the whole common-password dictionary would", () => {
    // The bundle keeps only the dictionary entries that pass the composition rules; for every
    // entry, in the casings a person would try, the decision is the one the whole list gives.
    const all = new Set((dictionary as string[]).map((p) => p.toLowerCase()));
    const rulesOnly = (p: string) => passwordProblems(p).filter((r) => r !== "is too common");
    let refusedAsCommon = 0;
    for (const entry of all) {
      for (const candidate of [entry, entry.toUpperCase(), entry.charAt(0).toUpperCase() + entry.slice(1)]) {
        const whole = rulesOnly(candidate).length === 0 && !all.has(candidate.toLowerCase());
        expect(passwordProblems(candidate).length === 0, candidate).toBe(whole);
        if (passwordProblems(candidate).includes("is too common")) refusedAsCommon++;
      }
    }
    expect(refusedAsCommon).toBeGreaterThan(0);
  });

  it("refuses common passwords, whatever their case", () => {
    expect(passwordProblems("P@ssw0rd")).toContain("is too common");
    expect(passwordProblems("Password1!")).not.toContain("must contain a symbol");
  });

  it("refuses a password containing the email's local part", () => {
    expect(passwordProblems("Ada.Lovelace-99!", { email: "ada.lovelace@example.com" })).toContain(
      "must not contain your email address",
    );
  });
});
