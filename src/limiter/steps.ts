import type { SchemaStep } from "../durable/migrate";

/**
 * The Limiter's schema steps, oldest first (src/durable/migrate.ts applies them). The Limiter
 * started empty when it took these subjects over from the Gate: what it holds is short-lived
 * (docs/design.md "The Limiter").
 */
export const LIMITER_SCHEMA: readonly SchemaStep[] = [
  // v1: token buckets, per-client login lockouts, emails sent per kind, clients known to an address.
  (sql) => {
    sql.exec(`CREATE TABLE buckets (id TEXT PRIMARY KEY, tokens REAL NOT NULL, at INTEGER NOT NULL,
      denied INTEGER NOT NULL DEFAULT 0, idle_after INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE lockouts (client TEXT PRIMARY KEY, failures INTEGER NOT NULL,
      locked_until INTEGER, updated_at INTEGER NOT NULL)`);
    sql.exec("CREATE TABLE emails_sent (kind TEXT NOT NULL, at INTEGER NOT NULL)");
    sql.exec("CREATE INDEX emails_sent_kind ON emails_sent (kind, at)");
    sql.exec("CREATE TABLE known_clients (client TEXT PRIMARY KEY, last_success_at INTEGER NOT NULL)");
  },
];
