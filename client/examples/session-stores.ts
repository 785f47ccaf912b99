/**
 * The two session stores client/README.md "Where the tokens live" shows, here so that
 * `npm run typecheck` keeps them true to the client's types. Where each keeps the refresh token
 * follows docs/contract.md "Sessions" ("Where an app keeps its tokens").
 */
import type { Session, SessionStore } from "../src/index.ts";

/**
 * A web app calling the API from the browser: the access token in memory, the refresh token in
 * sessionStorage, so it survives a reload but not the tab. After a reload the access token is
 * unknown (`expiresAt: 0`), so the first request refreshes, which also rotates the stored token.
 */
export function tabStore(key = "ledgerlink.refresh_token"): SessionStore {
  let current: Session | null = null;
  return {
    get() {
      if (current) return current;
      const refreshToken = sessionStorage.getItem(key);
      return refreshToken ? { accessToken: "", refreshToken, expiresAt: 0 } : null;
    },
    set(session) {
      current = session;
      if (session) sessionStorage.setItem(key, session.refreshToken);
      else sessionStorage.removeItem(key);
    },
  };
}

/** Whatever a server app already stores things in: a database table, a Durable Object, … */
export interface SessionTable {
  read(userId: string): Promise<Session | null>;
  write(userId: string, session: Session): Promise<void>;
  remove(userId: string): Promise<void>;
}

/**
 * A server app (or a web app's own backend): each of its users' sessions in its own store, keyed
 * by its own user id; the browser never sees a Ledgerlink token. Make one client per request.
 */
export function tableStore(table: SessionTable, userId: string): SessionStore {
  return {
    get: () => table.read(userId),
    set: (session) => (session ? table.write(userId, session) : table.remove(userId)),
  };
}
