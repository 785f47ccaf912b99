import { describe, expect, it } from "vitest";
import {
  base32Decode,
  base32Encode,
  hotp,
  matchTotp,
  newTotpSecret,
  otpauthUrl,
  totpAt,
  totpStep,
} from "../../src/crypto/totp";

const enc = new TextEncoder();
// RFC 6238 Appendix B / RFC 4226 Appendix D: the SHA-1 seed is the ASCII string "12345678901234567890".
const SEED = enc.encode("12345678901234567890");

describe("HOTP (RFC 4226 Appendix D)", () => {
  it("matches the published values for counters 0–9", async () => {
    const expected = [
      "755224",
      "287082",
      "359152",
      "969429",
      "338314",
      "254676",
      "287922",
      "162583",
      "399871",
      "520489",
    ];
    const got = await Promise.all(expected.map((_, counter) => hotp(SEED, counter)));
    expect(got).toEqual(expected);
  });
});

describe("TOTP (RFC 6238 Appendix B, SHA-1)", () => {
  const vectors: [number, string][] = [
    [59, "94287082"],
    [1111111109, "07081804"],
    [1111111111, "14050471"],
    [1234567890, "89005924"],
    [2000000000, "69279037"],
    [20000000000, "65353130"],
  ];
  it.each(vectors)("T = %i s gives %s (8 digits)", async (seconds, code) => {
    expect(await totpAt(SEED, totpStep(seconds * 1000), 8)).toBe(code);
  });

  it("6-digit codes are the last six digits of the 8-digit ones", async () => {
    for (const [seconds, code] of vectors) {
      expect(await totpAt(SEED, totpStep(seconds * 1000))).toBe(code.slice(2));
    }
  });

  it("uses 30-second steps from the Unix epoch", () => {
    expect(totpStep(0)).toBe(0);
    expect(totpStep(29_999)).toBe(0);
    expect(totpStep(30_000)).toBe(1);
    expect(totpStep(new Date(1111111109 * 1000))).toBe(0x023523ec);
  });
});

describe("matchTotp", () => {
  const now = new Date(1234567890 * 1000);
  const step = totpStep(now);
  const codeAt = (s: number) => totpAt(SEED, s);

  it("accepts the current step and ±1, refuses ±2", async () => {
    for (const d of [-1, 0, 1]) expect(await matchTotp(SEED, await codeAt(step + d), now)).toBe(step + d);
    for (const d of [-2, 2]) expect(await matchTotp(SEED, await codeAt(step + d), now)).toBeNull();
  });

  it("refuses steps at or before the last one used", async () => {
    expect(await matchTotp(SEED, await codeAt(step), now, { afterStep: step })).toBeNull();
    expect(await matchTotp(SEED, await codeAt(step - 1), now, { afterStep: step - 1 })).toBeNull();
    expect(await matchTotp(SEED, await codeAt(step + 1), now, { afterStep: step })).toBe(step + 1);
  });

  it("refuses malformed codes without throwing", async () => {
    for (const code of ["", "12345", "1234567", "abcdef", "１２３４５６", " 94287"]) {
      expect(await matchTotp(SEED, code, now)).toBeNull();
    }
  });
});

describe("base32 (RFC 4648 §10)", () => {
  const vectors: [string, string][] = [
    ["", ""],
    ["f", "MY"],
    ["fo", "MZXQ"],
    ["foo", "MZXW6"],
    ["foob", "MZXW6YQ"],
    ["fooba", "MZXW6YTB"],
    ["foobar", "MZXW6YTBOI"],
  ];
  it.each(vectors)("%j ↔ %s", (plain, encoded) => {
    expect(base32Encode(enc.encode(plain))).toBe(encoded);
    expect(base32Decode(encoded)).toEqual(enc.encode(plain));
    expect(base32Decode(`${encoded.toLowerCase()}======`)).toEqual(enc.encode(plain));
  });

  it("refuses characters outside the alphabet", () => {
    expect(base32Decode("MZXW1")).toBeNull();
    expect(base32Decode("MZ!W")).toBeNull();
  });

  it("new secrets are 160 random bits", () => {
    const a = newTotpSecret();
    expect(a).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(a)?.byteLength).toBe(20);
    expect(newTotpSecret()).not.toBe(a);
  });
});

it("builds the otpauth:// URL authenticator apps scan", () => {
  const url = new URL(otpauthUrl("Ledgerlink", "ada@example.com", "JBSWY3DPEHPK3PXP"));
  expect(url.protocol).toBe("otpauth:");
  expect(url.host).toBe("totp");
  expect(decodeURIComponent(url.pathname)).toBe("/Ledgerlink:ada@example.com");
  expect(Object.fromEntries(url.searchParams)).toEqual({
    secret: "JBSWY3DPEHPK3PXP",
    issuer: "Ledgerlink",
    algorithm: "SHA1",
    digits: "6",
    period: "30",
  });
});
