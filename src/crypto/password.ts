import { Buffer } from "node:buffer";
import { randomBytes, scrypt } from "node:crypto";
import { timingSafeEqual } from "./random";

/**
 * scrypt parameters. OWASP Password Storage Cheat Sheet lists N=2^14, r=8, p=5 (16 MiB); it
 * fits Workers' native node:crypto scrypt limit of N·r·p <= 2^20 (ARCHITECTURE.md §1).
 */
export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

export const CURRENT_PARAMS: ScryptParams = { ln: 14, r: 8, p: 5 };
const KEY_LEN = 32;
const SALT_LEN = 16;

function derive(password: string, salt: Buffer, { ln, r, p }: ScryptParams): Promise<Buffer> {
  const N = 2 ** ln;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, KEY_LEN, { N, r, p, maxmem: 128 * N * r * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

const b64 = (b: Buffer) => b.toString("base64").replace(/=+$/, "");

/** Hashes a password into a PHC-style string: `$scrypt$ln=14,r=8,p=5$<salt>$<hash>`. */
export async function hashPassword(password: string, params: ScryptParams = CURRENT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_LEN);
  const key = await derive(password, salt, params);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

interface Parsed {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function parse(stored: string): Parsed | null {
  const m = PHC.exec(stored);
  if (!m) return null;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  // Refuse parameters Workers cannot run (N·r·p <= 2^20) rather than throwing mid-login.
  if (params.ln < 10 || 2 ** params.ln * params.r * params.p > 2 ** 20) return null;
  return { params, salt: Buffer.from(m[4] as string, "base64"), key: Buffer.from(m[5] as string, "base64") };
}

/** Verifies in constant time; `needsRehash` is true when the hash used older parameters. */
export async function verifyPassword(password: string, stored: string): Promise<{ ok: boolean; needsRehash: boolean }> {
  const parsed = parse(stored);
  if (!parsed) return { ok: false, needsRehash: false };
  const key = await derive(password, parsed.salt, parsed.params);
  const ok = timingSafeEqual(new Uint8Array(key), new Uint8Array(parsed.key));
  const p = parsed.params;
  const needsRehash = p.ln !== CURRENT_PARAMS.ln || p.r !== CURRENT_PARAMS.r || p.p !== CURRENT_PARAMS.p;
  return { ok, needsRehash };
}

let dummy: Promise<string> | undefined;

/**
 * A hash of a random password with the current parameters, so a login for an unknown email
 * spends the same work as one for a real account (no timing-based enumeration).
 */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(crypto.randomUUID());
  return dummy;
}
