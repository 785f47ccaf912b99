/**
 * Versioned schema for a Durable Object's own SQLite, applied on first use inside
 * `blockConcurrencyWhile` (like D1 migrations: append only, never edit a shipped step). The
 * version lives in the object's KV storage, so an object created at an older version is
 * upgraded in place.
 */
export type SchemaStep = (sql: SqlStorage) => void;

const VERSION_KEY = "schema_version";

/** Applies the steps the object has not seen yet; returns the version it is at now. */
export function migrate(storage: DurableObjectStorage, steps: readonly SchemaStep[]): number {
  const at = storage.kv.get<number>(VERSION_KEY) ?? 0;
  if (at > steps.length) throw new Error(`object schema v${at} is newer than this code (v${steps.length})`);
  if (at === steps.length) return at;
  storage.transactionSync(() => {
    for (let v = at; v < steps.length; v++) steps[v]?.(storage.sql);
    storage.kv.put(VERSION_KEY, steps.length);
  });
  return steps.length;
}
