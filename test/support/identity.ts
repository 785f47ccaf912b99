import { expect, vi } from "vitest";
import { type CallInit, call } from "./http";

export const PASSWORD = "Tr1cky-Bison-42!";
export const NEW_PASSWORD = "An0ther-Quiet-Heron?";

let counter = 0;
/** A fresh, unique address per call so tests never collide. */
export const uniqueEmail = (tag = "user") => `${tag}.${Date.now().toString(36)}.${++counter}@example.com`;

export interface OutboxMessage {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  created_at: string;
}

export async function outbox(to: string): Promise<OutboxMessage[]> {
  const res = await call(`/api/v1/dev/outbox?to=${encodeURIComponent(to)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { messages: OutboxMessage[] }).messages;
}

/** The outbox of `to` once it holds at least `count` messages (emails leave after the response). */
export async function outboxAtLeast(to: string, count: number): Promise<OutboxMessage[]> {
  return vi.waitFor(
    async () => {
      const messages = await outbox(to);
      if (messages.length < count) throw new Error(`${messages.length} of ${count} emails to ${to} so far`);
      return messages;
    },
    { timeout: 5000, interval: 20 },
  );
}

/**
 * The newest email to `to` whose subject matches. Emails leave after the response (the
 * request's waitUntil), so this waits for it, briefly.
 */
export async function emailTo(to: string, subject: RegExp): Promise<OutboxMessage> {
  return vi.waitFor(
    async () => {
      const msg = (await outbox(to)).find((m) => subject.test(m.subject));
      if (!msg) throw new Error(`no email matching ${subject} for ${to}`);
      return msg;
    },
    { timeout: 5000, interval: 20 },
  );
}

/** The token in the newest email to `to` whose subject matches. */
export async function tokenFromEmail(to: string, subject: RegExp): Promise<string> {
  const msg = await emailTo(to, subject);
  const m = /token=([A-Za-z0-9_%-]+)/.exec(msg.text);
  if (!m?.[1]) throw new Error(`no token in "${msg.subject}"`);
  return decodeURIComponent(m[1]);
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  session_id: string;
  expires_in: number;
  token_type: string;
  user: { id: string; email: string; name: string; email_verified: boolean; role: string };
}

export const register = (email: string, password = PASSWORD, name = "Ada Lovelace") =>
  call("/api/v1/auth/register", { method: "POST", json: { email, password, name } });

export const login = (email: string, password = PASSWORD, headers: HeadersInit = {}) =>
  call("/api/v1/auth/login", { method: "POST", json: { email, password }, headers });

export const refresh = (refresh_token: string) =>
  call("/api/v1/auth/refresh", { method: "POST", json: { refresh_token } });

export const authed = (token: string, path: string, init: CallInit = {}) =>
  call(path, {
    ...init,
    headers: { ...Object.fromEntries(new Headers(init.headers)), Authorization: `Bearer ${token}` },
  });

/** Registers, verifies through the emailed link, and returns the address. */
export async function verifiedUser(tag = "user", password = PASSWORD): Promise<string> {
  const email = uniqueEmail(tag);
  expect((await register(email, password)).status).toBe(202);
  const token = await tokenFromEmail(email, /confirm your email/i);
  expect((await call("/api/v1/auth/verify-email", { method: "POST", json: { token } })).status).toBe(200);
  return email;
}

/** A verified user, logged in. */
export async function loggedIn(tag = "user", headers: HeadersInit = {}): Promise<{ email: string; tokens: Tokens }> {
  const email = await verifiedUser(tag);
  const res = await login(email, PASSWORD, headers);
  expect(res.status).toBe(200);
  return { email, tokens: (await res.json()) as Tokens };
}
