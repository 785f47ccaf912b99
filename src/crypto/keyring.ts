/**
 * Encryption at rest for provider credentials (docs/design.md "Encryption at rest").
 *
 * Secret format (one env var, e.g. `CREDENTIALS_KEYRING`): a comma-separated list of
 * `id:base64key` entries, newest first:
 *
 *     k2:<base64 of 32 random bytes>,k1:<base64 of 32 random bytes>
 *
 * - The FIRST entry is the active key: it encrypts. Every entry decrypts.
 * - Ids match /^[A-Za-z0-9_-]{1,32}$/ and are unique; keys are exactly 32 bytes (AES-256),
 *   standard or url-safe base64, padding optional. Make one with
 *   `node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`.
 * - Rotation: prepend a new entry, deploy, let the re-wrap job call `rewrap()` on every row where
 *   `needsRewrap()` is true, then drop the old entry.
 *
 * Stored value: `v1.<keyId>.<base64url iv>.<base64url ciphertext||tag>` (AES-256-GCM, 96-bit
 * random IV per message as NIST SP 800-38D §8.2.2 recommends, 128-bit tag). The version, key id and
 * the row binding (`EncryptionContext`) are authenticated as additional data, so a value copied to
 * another user, connection or field fails to decrypt.
 */

/** Why a keyring operation failed; stable so callers and logs can branch on it. */
export type KeyringErrorCode =
  | "keyring_invalid"
  | "invalid_context"
  | "unknown_key"
  | "malformed_ciphertext"
  | "decrypt_failed";

/** A keyring failure. Messages name what is wrong, never key material or plaintext. */
export class KeyringError extends Error {
  constructor(
    readonly code: KeyringErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "KeyringError";
  }
}

/** The row a ciphertext belongs to; authenticated as AAD so values cannot be swapped. */
export interface EncryptionContext {
  userId: string;
  connectionId: string;
  field: string;
}

/** One parsed keyring entry (raw key bytes; import them, never log them). */
export interface KeyringEntry {
  id: string;
  key: Uint8Array;
}

/** A ready keyring: the first key encrypts, all keys decrypt. */
export interface Keyring {
  readonly activeKeyId: string;
  readonly keyIds: readonly string[];
  encrypt(plaintext: string, aad: EncryptionContext): Promise<string>;
  decrypt(stored: string, aad: EncryptionContext): Promise<string>;
  /** True when `stored` is not under the active key (throws if `stored` is malformed). */
  needsRewrap(stored: string): boolean;
  /** Re-encrypts under the active key; returns `stored` unchanged if it already is. */
  rewrap(stored: string, aad: EncryptionContext): Promise<string>;
}

const VERSION = "v1";
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const encoder = new TextEncoder();

function decodeBase64Key(text: string): Uint8Array | null {
  // Accept standard and url-safe alphabets; padding optional. Anything else is a typo.
  const normalized = text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  if (!/^[A-Za-z0-9+/]+$/.test(normalized) || normalized.length % 4 === 1) return null;
  try {
    const bin = atob(normalized.padEnd(Math.ceil(normalized.length / 4) * 4, "="));
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  try {
    const bin = atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, "="));
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

/**
 * Parses the keyring secret. Errors name the entry by position only: a mangled entry may hold
 * key material in the place where the id belongs.
 */
export function parseKeyring(secret: string): KeyringEntry[] {
  if (typeof secret !== "string" || secret.trim() === "") {
    throw new KeyringError("keyring_invalid", "keyring is empty: expected `id:base64key[,id:base64key...]`");
  }
  const entries: KeyringEntry[] = [];
  const seen = new Set<string>();
  secret.split(",").forEach((raw, index) => {
    const n = index + 1;
    const entry = raw.trim();
    if (entry === "") throw new KeyringError("keyring_invalid", `keyring entry ${n} is empty`);
    const colon = entry.indexOf(":");
    if (colon < 0) throw new KeyringError("keyring_invalid", `keyring entry ${n} is not of the form id:base64key`);
    const id = entry.slice(0, colon).trim();
    if (!KEY_ID.test(id)) {
      throw new KeyringError(
        "keyring_invalid",
        `keyring entry ${n} has an invalid key id (expected [A-Za-z0-9_-]{1,32})`,
      );
    }
    if (seen.has(id)) throw new KeyringError("keyring_invalid", `keyring entry ${n} repeats an earlier key id`);
    const key = decodeBase64Key(entry.slice(colon + 1).trim());
    if (!key) throw new KeyringError("keyring_invalid", `keyring entry ${n} is not valid base64`);
    if (key.byteLength !== 32) {
      throw new KeyringError("keyring_invalid", `keyring entry ${n} must decode to 32 bytes (got ${key.byteLength})`);
    }
    seen.add(id);
    entries.push({ id, key });
  });
  return entries;
}

function contextBytes(keyId: string, aad: EncryptionContext): Uint8Array {
  for (const name of ["userId", "connectionId", "field"] as const) {
    const value = aad?.[name];
    if (typeof value !== "string" || value === "") {
      throw new KeyringError("invalid_context", `encryption context ${name} must be a non-empty string`);
    }
  }
  // A JSON array is an unambiguous canonical encoding: no field can bleed into the next.
  return encoder.encode(JSON.stringify([VERSION, keyId, aad.userId, aad.connectionId, aad.field]));
}

interface Parsed {
  keyId: string;
  iv: Uint8Array;
  data: Uint8Array;
}

function parseStored(stored: string): Parsed {
  const parts = typeof stored === "string" ? stored.split(".") : [];
  if (parts.length !== 4 || parts[0] !== VERSION) {
    throw new KeyringError("malformed_ciphertext", "stored value is not a v1 ciphertext");
  }
  const [, keyId = "", ivText = "", dataText = ""] = parts;
  if (!KEY_ID.test(keyId)) throw new KeyringError("malformed_ciphertext", "stored value has an invalid key id");
  const iv = fromBase64Url(ivText);
  const data = fromBase64Url(dataText);
  if (!iv || iv.byteLength !== IV_BYTES) throw new KeyringError("malformed_ciphertext", "stored value has a bad IV");
  if (!data || data.byteLength < TAG_BYTES) {
    throw new KeyringError("malformed_ciphertext", "stored value has a truncated ciphertext");
  }
  return { keyId, iv, data };
}

/** Imports every key as a non-extractable AES-GCM CryptoKey and returns the keyring. */
export async function createKeyring(secret: string): Promise<Keyring> {
  const entries = parseKeyring(secret);
  const keys = new Map<string, CryptoKey>();
  for (const { id, key } of entries) {
    keys.set(id, await crypto.subtle.importKey("raw", key, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]));
  }
  const activeKeyId = (entries[0] as KeyringEntry).id;
  const activeKey = keys.get(activeKeyId) as CryptoKey;

  const encrypt = async (plaintext: string, aad: EncryptionContext): Promise<string> => {
    if (typeof plaintext !== "string") throw new KeyringError("invalid_context", "plaintext must be a string");
    const additionalData = contextBytes(activeKeyId, aad);
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData, tagLength: TAG_BYTES * 8 },
      activeKey,
      encoder.encode(plaintext),
    );
    return `${VERSION}.${activeKeyId}.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`;
  };

  const decrypt = async (stored: string, aad: EncryptionContext): Promise<string> => {
    const { keyId, iv, data } = parseStored(stored);
    const key = keys.get(keyId);
    if (!key) throw new KeyringError("unknown_key", `no key with id ${keyId} in the keyring`);
    const additionalData = contextBytes(keyId, aad);
    let opened: ArrayBuffer;
    try {
      opened = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv, additionalData, tagLength: TAG_BYTES * 8 },
        key,
        data,
      );
    } catch {
      // GCM gives one answer for a wrong key, wrong AAD or tampering; so do we.
      throw new KeyringError("decrypt_failed", "ciphertext failed authentication");
    }
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(opened);
    } catch {
      throw new KeyringError("decrypt_failed", "decrypted value is not UTF-8");
    }
  };

  const needsRewrap = (stored: string): boolean => parseStored(stored).keyId !== activeKeyId;

  return {
    activeKeyId,
    keyIds: entries.map((e) => e.id),
    encrypt,
    decrypt,
    needsRewrap,
    async rewrap(stored, aad) {
      const plaintext = await decrypt(stored, aad);
      if (!needsRewrap(stored)) return stored;
      return encrypt(plaintext, aad);
    },
  };
}
