import { Buffer } from "node:buffer";
import { randomBytes, scrypt } from "node:crypto";
import { timingSafeEqual } from "./random";

/**
 * scrypt cost parameters (N = 2^ln). Stored with every hash (PHC-style string), so a hash made
 * with other parameters still verifies and is upgraded on the next successful login.
 */
export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

/**
 * OWASP Password Storage Cheat Sheet: N=2^14, r=8, p=5 (16 MiB). It fits Workers' native
 * node:crypto scrypt limit of N·r·p <= 2^20 (docs/design.md "Passwords"). The production cost.
 */
export const OWASP_SCRYPT: ScryptParams = { ln: 14, r: 8, p: 5 };

/** Workers' node:crypto scrypt refuses N·r·p above 2^20. */
export const fitsWorkers = ({ ln, r, p }: ScryptParams) => 2 ** ln * r * p <= 2 ** 20;

/** True when `a` costs less work than OWASP's parameters in any dimension. */
export const belowOwasp = (a: ScryptParams) => a.ln < OWASP_SCRYPT.ln || a.r < OWASP_SCRYPT.r || a.p < OWASP_SCRYPT.p;

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

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function parse(stored: string): { params: ScryptParams; salt: Buffer; key: Buffer } | null {
  const m = PHC.exec(stored);
  if (!m) return null;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  // Refuse parameters Workers cannot run rather than throwing mid-login.
  if (params.ln < 1 || params.r < 1 || params.p < 1 || !fitsWorkers(params)) return null;
  return { params, salt: Buffer.from(m[4] as string, "base64"), key: Buffer.from(m[5] as string, "base64") };
}

const same = (a: ScryptParams, b: ScryptParams) => a.ln === b.ln && a.r === b.r && a.p === b.p;

/** What services use to hash and check passwords (one seam: tests may lower the cost). */
export interface PasswordHasher {
  readonly params: ScryptParams;
  /** A PHC-style string: `$scrypt$ln=14,r=8,p=5$<salt>$<hash>`. */
  hashPassword(password: string): Promise<string>;
  /** Constant-time check; `needsRehash` when the stored hash used other parameters. */
  verifyPassword(password: string, stored: string): Promise<{ ok: boolean; needsRehash: boolean }>;
  /**
   * A hash of a random password at this cost, so work for an unknown email equals work for a
   * real account (no timing-based enumeration).
   */
  dummyHash(): Promise<string>;
}

/** A scrypt hasher at `params` (like OpenAuth's `ScryptHasher({N, r, p})`). */
export function scryptHasher(params: ScryptParams = OWASP_SCRYPT): PasswordHasher {
  let dummy: Promise<string> | undefined;
  const hashPassword = async (password: string) => {
    const salt = randomBytes(SALT_LEN);
    const key = await derive(password, salt, params);
    return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
  };
  return {
    params,
    hashPassword,
    async verifyPassword(password, stored) {
      const parsed = parse(stored);
      if (!parsed) return { ok: false, needsRehash: false };
      const key = await derive(password, parsed.salt, parsed.params);
      const ok = timingSafeEqual(new Uint8Array(key), new Uint8Array(parsed.key));
      return { ok, needsRehash: !same(parsed.params, params) };
    },
    dummyHash() {
      dummy ??= hashPassword(crypto.randomUUID());
      return dummy;
    },
  };
}

/** Parses `ln=14,r=8,p=5` (the PASSWORD_HASH_COST setting). */
export function parseScryptParams(text: string): ScryptParams | null {
  const m = /^ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})$/.exec(text.trim());
  if (!m) return null;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  return params.ln >= 1 && params.r >= 1 && params.p >= 1 && fitsWorkers(params) ? params : null;
}
