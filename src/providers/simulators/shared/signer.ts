/**
 * Stateless simulator credentials: ids, codes and tokens are HMAC-SHA256-signed JSON, so any
 * isolate (or a restarted dev server) can read them back without storage. Two forms:
 * compact ids (`<payload>.<mac>`, URL-path safe) and JWT-shaped tokens (`<header>.<payload>.<mac>`,
 * where the provider's real tokens are JWTs). The kind is part of the MAC, so a token of one kind
 * never verifies as another.
 */
import { b64url, fromB64url } from "../../sandbox/tokens";

const encoder = new TextEncoder();

const json = (bytes: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
};

/** Signs and verifies simulator credentials with one key. */
export interface SimSigner {
  /** A compact signed id of `kind` (no header; 16-byte MAC). */
  id(kind: string, claims: object): Promise<string>;
  /** The claims of a genuine id of `kind`, or null. */
  readId<T>(kind: string, id: string): Promise<T | null>;
  /** A JWT-shaped token (`typ` = kind, HS256 over header and payload). */
  token(kind: string, claims: object): Promise<string>;
  /** The claims of a genuine token of `kind`, or null. */
  readToken<T>(kind: string, token: string): Promise<T | null>;
}

/** Creates a signer; `secret` may be any string. */
export function createSimSigner(secret: string): SimSigner {
  const key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = async (kind: string, text: string, bytes: number) =>
    b64url(
      new Uint8Array(await crypto.subtle.sign("HMAC", await key, encoder.encode(`${kind}|${text}`))).slice(0, bytes),
    );
  // Compare MACs in constant time over equal-length strings.
  const same = (a: string, b: string) => {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
    return diff === 0;
  };

  return {
    async id(kind, claims) {
      const payload = b64url(encoder.encode(JSON.stringify(claims)));
      return `${payload}.${await mac(kind, payload, 16)}`;
    },
    async readId<T>(kind: string, id: string) {
      const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})$/.exec(id);
      if (!m || !same(m[2] as string, await mac(kind, m[1] as string, 16))) return null;
      const bytes = fromB64url(m[1] as string);
      return bytes ? (json(bytes) as T | null) : null;
    },
    async token(kind, claims) {
      const head = `${b64url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT", kind })))}.${b64url(encoder.encode(JSON.stringify(claims)))}`;
      return `${head}.${await mac(kind, head, 32)}`;
    },
    async readToken<T>(kind: string, token: string) {
      const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(token);
      if (!m) return null;
      const head = `${m[1]}.${m[2]}`;
      if (!same(m[3] as string, await mac(kind, head, 32))) return null;
      const header = fromB64url(m[1] as string);
      const payload = fromB64url(m[2] as string);
      if (!header || !payload || (json(header) as { kind?: unknown } | null)?.kind !== kind) return null;
      return json(payload) as T | null;
    },
  };
}
