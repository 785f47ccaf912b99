/**
 * TOTP (RFC 6238) over HOTP (RFC 4226) with WebCrypto HMAC, and base32 (RFC 4648 §6) for the
 * shared secret. Defaults are what authenticator apps expect: SHA-1, 6 digits, 30-second steps.
 */

import { timingSafeEqual } from "./random";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;

/** RFC 4648 base32, upper case, no padding (the form otpauth:// URIs use). */
export function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** Decodes base32 (case-insensitive, padding and spaces ignored); null when it is not base32. */
export function base32Decode(text: string): Uint8Array | null {
  const clean = text.replace(/[\s=]/g, "").toUpperCase();
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of clean) {
    const v = BASE32.indexOf(ch);
    if (v < 0) return null;
    buffer = ((buffer << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

/** A new 160-bit secret (RFC 4226 §4 recommends 160 bits), base32-encoded. */
export const newTotpSecret = () => base32Encode(crypto.getRandomValues(new Uint8Array(20)));

/** HOTP(K, C) (RFC 4226 §5.3): HMAC-SHA-1 of the 8-byte counter, dynamic truncation, mod 10^d. */
export async function hotp(key: Uint8Array, counter: number, digits = TOTP_DIGITS): Promise<string> {
  const msg = new Uint8Array(8);
  new DataView(msg.buffer).setBigUint64(0, BigInt(counter));
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, msg));
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary =
    (((mac[offset] as number) & 0x7f) << 24) |
    ((mac[offset + 1] as number) << 16) |
    ((mac[offset + 2] as number) << 8) |
    (mac[offset + 3] as number);
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/** The TOTP time step of an instant (RFC 6238 §4: T = floor((now - T0) / X), T0 = 0). */
export const totpStep = (at: Date | number) => Math.floor(Number(at) / 1000 / TOTP_PERIOD_SECONDS);

/** TOTP code for a time step. */
export const totpAt = (key: Uint8Array, step: number, digits = TOTP_DIGITS) => hotp(key, step, digits);

const enc = new TextEncoder();

/**
 * The time step whose code matches, searching now ± `window` steps (clock drift), skipping steps
 * at or before `afterStep` (already used). Every candidate is computed and compared in constant
 * time, so the answer takes the same work wherever (or whether) it matched.
 */
export async function matchTotp(
  key: Uint8Array,
  code: string,
  now: Date,
  opts: { window?: number; afterStep?: number | null } = {},
): Promise<number | null> {
  const window = opts.window ?? 1;
  const current = totpStep(now);
  const given = enc.encode(code);
  let matched: number | null = null;
  for (let step = current - window; step <= current + window; step++) {
    const candidate = enc.encode(await totpAt(key, step));
    const equal = timingSafeEqual(candidate, given);
    const fresh = opts.afterStep === null || opts.afterStep === undefined || step > opts.afterStep;
    if (equal && fresh && matched === null) matched = step;
  }
  return matched;
}

/** The otpauth:// URI authenticator apps scan (Key Uri Format). */
export function otpauthUrl(issuer: string, account: string, secret: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const params = new URLSearchParams({
    secret,
    issuer,
    algorithm: "SHA1",
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_SECONDS),
  });
  return `otpauth://totp/${label}?${params.toString()}`;
}
