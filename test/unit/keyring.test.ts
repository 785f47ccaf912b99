import { describe, expect, it } from "vitest";
import { createKeyring, type EncryptionContext, KeyringError, parseKeyring } from "../../src/crypto/keyring";

function keyB64(fill?: number): string {
  const bytes = fill === undefined ? crypto.getRandomValues(new Uint8Array(32)) : new Uint8Array(32).fill(fill);
  return btoa(String.fromCharCode(...bytes));
}

const K1 = keyB64();
const K2 = keyB64();
const ctx: EncryptionContext = { userId: "usr_1", connectionId: "con_1", field: "refresh_token" };

async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<KeyringError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(KeyringError);
    return err as KeyringError;
  }
  throw new Error("expected a KeyringError");
}

/** Replaces one character of a base64url segment with a different valid one. */
function flip(segment: string, at = 0): string {
  const ch = segment[at] === "A" ? "B" : "A";
  return segment.slice(0, at) + ch + segment.slice(at + 1);
}

describe("parseKeyring", () => {
  it("parses entries newest first, tolerating whitespace and url-safe base64", () => {
    const urlSafe = K2.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const entries = parseKeyring(` k2:${urlSafe} , k1:${K1}`);
    expect(entries.map((e) => e.id)).toEqual(["k2", "k1"]);
    expect(entries[0]?.key.byteLength).toBe(32);
  });

  const secretMaterial = btoa("secret-secret-secret-secret-sec"); // 31 bytes
  const bad: [string, string, RegExp][] = [
    ["empty", "", /empty/],
    ["blank", "   ", /empty/],
    ["empty entry", `k1:${K1},`, /entry 2 is empty/],
    ["no id", secretMaterial, /not of the form/],
    ["bad id", `bad id!:${K1}`, /invalid key id/],
    ["id too long", `${"a".repeat(33)}:${K1}`, /invalid key id/],
    ["bad base64", "k1:not*base64*at*all", /not valid base64/],
    ["wrong length", `k1:${secretMaterial}`, /32 bytes \(got 31\)/],
    ["16-byte key", `k1:${btoa("0123456789abcdef")}`, /32 bytes \(got 16\)/],
    ["duplicate ids", `k1:${K1},k1:${K2}`, /repeats/],
  ];
  for (const [name, secret, message] of bad) {
    it(`rejects ${name} without echoing key material`, async () => {
      const err = await errorOf(() => parseKeyring(secret));
      expect(err.code).toBe("keyring_invalid");
      expect(err.message).toMatch(message);
      for (const material of [K1, K2, secretMaterial, "not*base64"]) expect(err.message).not.toContain(material);
    });
  }

  it("rejects a mangled entry whose key sits where the id belongs, without echoing it", async () => {
    const err = await errorOf(() => parseKeyring(`${K1}:k1`));
    expect(err.message).not.toContain(K1.slice(0, 12));
  });
});

describe("createKeyring", () => {
  it("round-trips text, including non-ASCII and empty strings", async () => {
    const ring = await createKeyring(`k1:${K1}`);
    for (const text of ["refresh-token-value", "", "ünïcødé ✓ 💸"]) {
      const stored = await ring.encrypt(text, ctx);
      expect(stored).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
      expect(stored).not.toContain(text || "\u0000");
      expect(await ring.decrypt(stored, ctx)).toBe(text);
    }
    expect(ring.activeKeyId).toBe("k1");
    expect(ring.keyIds).toEqual(["k1"]);
  });

  it("uses a fresh random IV: the same plaintext encrypts differently every time", async () => {
    const ring = await createKeyring(`k1:${K1}`);
    const a = await ring.encrypt("same", ctx);
    const b = await ring.encrypt("same", ctx);
    expect(a).not.toBe(b);
    expect(a.split(".")[2]).not.toBe(b.split(".")[2]);
  });

  it("binds the ciphertext to user, connection and field (AAD)", async () => {
    const ring = await createKeyring(`k1:${K1}`);
    const stored = await ring.encrypt("secret", ctx);
    for (const other of [
      { ...ctx, userId: "usr_2" },
      { ...ctx, connectionId: "con_2" },
      { ...ctx, field: "access_token" },
    ]) {
      const err = await errorOf(ring.decrypt(stored, other));
      expect(err.code).toBe("decrypt_failed");
    }
  });

  it("does not confuse fields whose concatenation is equal", async () => {
    const ring = await createKeyring(`k1:${K1}`);
    const stored = await ring.encrypt("x", { userId: "ab", connectionId: "c", field: "f" });
    expect((await errorOf(ring.decrypt(stored, { userId: "a", connectionId: "bc", field: "f" }))).code).toBe(
      "decrypt_failed",
    );
  });

  it("refuses an empty context member", async () => {
    const ring = await createKeyring(`k1:${K1}`);
    expect((await errorOf(ring.encrypt("x", { ...ctx, userId: "" }))).code).toBe("invalid_context");
  });

  it("fails closed on tampered ciphertext, tag or IV", async () => {
    const ring = await createKeyring(`k1:${K1}`);
    const stored = await ring.encrypt("secret value", ctx);
    const [v, id, iv = "", data = ""] = stored.split(".");
    const tampered = [
      [v, id, flip(iv), data],
      [v, id, iv, flip(data)],
      [v, id, iv, flip(data, data.length - 2)],
    ];
    for (const parts of tampered) {
      const err = await errorOf(ring.decrypt(parts.join("."), ctx));
      expect(err.code).toBe("decrypt_failed");
      expect(err.message).not.toContain("secret value");
    }
  });

  it("fails closed on malformed stored values", async () => {
    const ring = await createKeyring(`k1:${K1}`);
    const good = await ring.encrypt("x", ctx);
    const [, , iv = "", data = ""] = good.split(".");
    const malformed = [
      "",
      "plaintext",
      `v2.k1.${iv}.${data}`,
      `v1.k1.${iv}`,
      `v1.k1.${iv}.${data}.extra`,
      `v1.bad id.${iv}.${data}`,
      `v1.k1.${iv.slice(0, 8)}.${data}`,
      `v1.k1.${iv}.${data.slice(0, 10)}`,
      `v1.k1.${iv}.${data.slice(0, -1)}*`,
      `v1.k1.${iv}=.${data}`,
    ];
    for (const stored of malformed) {
      expect((await errorOf(ring.decrypt(stored, ctx))).code).toBe("malformed_ciphertext");
    }
    expect((await errorOf(() => ring.needsRewrap("garbage"))).code).toBe("malformed_ciphertext");
  });

  it("refuses an unknown key id", async () => {
    const old = await createKeyring(`k1:${K1}`);
    const stored = await old.encrypt("x", ctx);
    const other = await createKeyring(`k9:${K1}`);
    const err = await errorOf(other.decrypt(stored, ctx));
    expect(err.code).toBe("unknown_key");
  });

  it("refuses a value relabelled with another key id of the ring", async () => {
    // Same key bytes under two ids: the key id is authenticated, so relabelling is detected.
    const ring = await createKeyring(`k2:${K1},k1:${K1}`);
    const stored = await ring.encrypt("x", ctx);
    const relabelled = stored.replace(/^v1\.k2\./, "v1.k1.");
    expect((await errorOf(ring.decrypt(relabelled, ctx))).code).toBe("decrypt_failed");
  });

  it("rotates: the new ring decrypts old values, flags them and re-wraps them under the new key", async () => {
    const oldRing = await createKeyring(`k1:${K1}`);
    const oldValue = await oldRing.encrypt("provider refresh token", ctx);

    const ring = await createKeyring(`k2:${K2},k1:${K1}`);
    expect(ring.activeKeyId).toBe("k2");
    expect(await ring.decrypt(oldValue, ctx)).toBe("provider refresh token");
    expect(ring.needsRewrap(oldValue)).toBe(true);

    const rewrapped = await ring.rewrap(oldValue, ctx);
    expect(rewrapped.startsWith("v1.k2.")).toBe(true);
    expect(ring.needsRewrap(rewrapped)).toBe(false);
    expect(await ring.decrypt(rewrapped, ctx)).toBe("provider refresh token");
    expect(await ring.rewrap(rewrapped, ctx)).toBe(rewrapped);

    // Once k1 is retired, only re-wrapped values still open.
    const retired = await createKeyring(`k2:${K2}`);
    expect(await retired.decrypt(rewrapped, ctx)).toBe("provider refresh token");
    expect((await errorOf(retired.decrypt(oldValue, ctx))).code).toBe("unknown_key");
  });

  it("rewrap refuses a value bound to another row instead of re-encrypting it", async () => {
    const ring = await createKeyring(`k2:${K2},k1:${K1}`);
    const oldValue = await (await createKeyring(`k1:${K1}`)).encrypt("x", ctx);
    expect((await errorOf(ring.rewrap(oldValue, { ...ctx, userId: "usr_2" }))).code).toBe("decrypt_failed");
  });

  it("a key with the same id but different bytes cannot decrypt", async () => {
    const a = await createKeyring(`k1:${keyB64(1)}`);
    const b = await createKeyring(`k1:${keyB64(2)}`);
    expect((await errorOf(b.decrypt(await a.encrypt("x", ctx), ctx))).code).toBe("decrypt_failed");
  });
});
