import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";

/** The home object of a user (`user:<id>`, src/home/client.ts), for a direct look inside it. */
export const homeOf = (userId: string, envOf: Env = env) => envOf.HOME.get(envOf.HOME.idFromName(`user:${userId}`));

/** The Limiter object of a subject (`ip:…`, `email:…`, `global`). */
export const limiterOf = (subject: string, envOf: Env = env) => envOf.LIMITER.get(envOf.LIMITER.idFromName(subject));

/** The user owning a connection, from D1's directory. */
export async function ownerOf(connectionId: string): Promise<string> {
  const row = await env.DB.prepare("SELECT user_id FROM connections WHERE id = ?")
    .bind(connectionId)
    .first<{ user_id: string }>();
  if (!row) throw new Error(`no connection ${connectionId}`);
  return row.user_id;
}

/** Runs SQL inside a user's home object (a direct look at their ledger) and returns the rows. */
export function homeSql<T = Record<string, SqlStorageValue>>(
  userId: string,
  query: string,
  ...binds: SqlStorageValue[]
): Promise<T[]> {
  return runInDurableObject(homeOf(userId), (_, state) => state.storage.sql.exec(query, ...binds).toArray() as T[]);
}

/** The same, for the home of a connection's owner. */
export async function connectionSql<T = Record<string, SqlStorageValue>>(
  connectionId: string,
  query: string,
  ...binds: SqlStorageValue[]
): Promise<T[]> {
  return homeSql<T>(await ownerOf(connectionId), query, ...binds);
}
