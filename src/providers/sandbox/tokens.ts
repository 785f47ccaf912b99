/**
 * Self-contained, HMAC-SHA256-signed sandbox credentials. Every code and token carries the login's
 * scenario, seed, first-login time and (for codes) the PKCE challenge, so any isolate can check it
 * without storage. Shaped like Schwab's (`C0.…@`, `I0.…@`): the trailing `@` makes clients
 * form-encode them properly, as they must for the real thing.
 */
import type { Scenario } from "./scenarios";

/** What a login is: shared by its code, access and refresh tokens. */
export interface Grant {
  scenario: Scenario;
  /** Seed text for the login's data (the `login` authorize parameter). */
  login: string;
  /** First login, epoch ms: anchors the data timeline and the 7-day refresh lifetime. */
  loginAt: number;
  clientId: string;
}

/** Authorization code claims (RFC 6749 §4.1.2; PKCE challenge per RFC 7636 §4.4). */
export interface CodeClaims extends Grant {
  kind: "code";
  jti: string;
  exp: number;
  challenge: string;
  redirectUri: string;
}

/** Access token claims. */
export interface AccessClaims extends Grant {
  kind: "access";
  jti: string;
  iat: number;
  exp: number;
}

/** Refresh token claims; it expires at loginAt + 7 days. */
export interface RefreshClaims extends Grant {
  kind: "refresh";
  jti: string;
}

type Claims = CodeClaims | AccessClaims | RefreshClaims;
type ClaimsOf<K extends Claims["kind"]> = Extract<Claims, { kind: K }>;

const PREFIX: Record<Claims["kind"], string> = { code: "C0", access: "I0", refresh: "R0" };
const encoder = new TextEncoder();

/** base64url without padding (RFC 4648 §5). */
export function b64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The bytes of a base64url text; null when it is not one. */
export function fromB64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const bin = atob(
      text
        .replace(/-/g, "+")
        .replace(/_/g, "/")
        .padEnd(Math.ceil(text.length / 4) * 4, "="),
    );
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** BASE64URL(SHA-256(ASCII(verifier))), the S256 transform of RFC 7636 §4.2. */
export async function s256(verifier: string): Promise<string> {
  return b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(verifier))));
}

/** A random id for tokens and sessions. */
export function randomId(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(12)));
}

/** Signs and verifies sandbox credentials with one HMAC key. */
export interface TokenSigner {
  sign(claims: Claims): Promise<string>;
  /** The claims of a genuine credential of this kind, or null (forged, mangled, wrong kind). */
  verify<K extends Claims["kind"]>(token: string, kind: K): Promise<ClaimsOf<K> | null>;
}

/** Creates a signer; the key is derived from `secret` (any length, HMAC pads or hashes it). */
export function createTokenSigner(secret: string): TokenSigner {
  const key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
  return {
    async sign(claims) {
      const head = `${PREFIX[claims.kind]}.${b64url(encoder.encode(JSON.stringify(claims)))}`;
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await key, encoder.encode(head)));
      return `${head}.${b64url(mac)}@`;
    },
    async verify(token, kind) {
      const m = /^([A-Z]\d)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)@?$/.exec(token);
      if (!m || m[1] !== PREFIX[kind]) return null;
      const mac = fromB64url(m[3] as string);
      const payload = fromB64url(m[2] as string);
      if (!mac || !payload) return null;
      const head = `${m[1]}.${m[2]}`;
      // crypto.subtle.verify compares in constant time.
      if (!(await crypto.subtle.verify("HMAC", await key, mac, encoder.encode(head)))) return null;
      try {
        const claims = JSON.parse(new TextDecoder().decode(payload)) as Claims;
        return claims.kind === kind ? (claims as ClaimsOf<typeof kind>) : null;
      } catch {
        return null;
      }
    },
  };
}
