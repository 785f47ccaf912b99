import { describe, expect, it } from "vitest";
import { CURRENT_PARAMS, dummyHash, hashPassword, verifyPassword } from "../../src/crypto/password";
import { passwordProblems } from "../../src/services/password-policy";

describe("scrypt password hashing", () => {
  it("stores OWASP parameters (N=2^14, r=8, p=5) with the hash", async () => {
    const h = await hashPassword("Tr1cky-Bison-42!");
    expect(h).toMatch(/^\$scrypt\$ln=14,r=8,p=5\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(CURRENT_PARAMS).toEqual({ ln: 14, r: 8, p: 5 });
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
    const old = await hashPassword("Tr1cky-Bison-42!", { ln: 12, r: 8, p: 1 });
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
