import type { SchemaStep } from "../durable/migrate";
import { LEDGER_SCHEMA_STEP } from "./ledger/schema";

/**
 * The Home's schema steps, oldest first (src/durable/migrate.ts applies them). Steps 1–4 are the
 * Gate's, from before the Gate was split: a user's Gate became their Home in place (wrangler.toml
 * `renamed_classes`), so its storage and version carry over and only the later steps run.
 */
export const HOME_SCHEMA: readonly SchemaStep[] = [
  // v1: revocations (until the revoked session's access tokens have expired).
  (sql) => {
    sql.exec("CREATE TABLE IF NOT EXISTS revoked_sessions (session_id TEXT PRIMARY KEY, until INTEGER NOT NULL)");
  },
  // v2: token buckets (exact across eviction), per-client login lockouts, emails sent per kind.
  (sql) => {
    sql.exec(`CREATE TABLE buckets (id TEXT PRIMARY KEY, tokens REAL NOT NULL, at INTEGER NOT NULL,
      denied INTEGER NOT NULL DEFAULT 0, idle_after INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE lockouts (client TEXT PRIMARY KEY, failures INTEGER NOT NULL,
      locked_until INTEGER, updated_at INTEGER NOT NULL)`);
    sql.exec("CREATE TABLE emails_sent (kind TEXT NOT NULL, at INTEGER NOT NULL)");
    sql.exec("CREATE INDEX emails_sent_kind ON emails_sent (kind, at)");
    sql.exec("CREATE TABLE reauth_failures (session_id TEXT PRIMARY KEY, failures INTEGER NOT NULL)");
  },
  // v3: a user's Gate is their home: their ledger and sync runs (src/home/ledger/schema.ts).
  LEDGER_SCHEMA_STEP,
  // v4 (second security pass): deleted connections a late write must not bring back; wrong
  // second-factor answers per login challenge; clients that logged in to an address.
  (sql) => {
    sql.exec("CREATE TABLE deleted_connections (id TEXT PRIMARY KEY, deleted_at INTEGER NOT NULL)");
    sql.exec(
      "CREATE TABLE challenge_failures (challenge TEXT PRIMARY KEY, failures INTEGER NOT NULL, expires_at INTEGER NOT NULL)",
    );
    sql.exec("CREATE TABLE known_clients (client TEXT PRIMARY KEY, last_success_at INTEGER NOT NULL)");
  },
  // v5 (the Home): a run's own deadline (the home reads no config), and the limiter's tables
  // a home never uses are dropped (they moved to the Limiter).
  (sql) => {
    sql.exec("ALTER TABLE sync_runs ADD COLUMN deadline_at INTEGER");
    sql.exec("DROP TABLE lockouts");
    sql.exec("DROP TABLE emails_sent");
    sql.exec("DROP TABLE known_clients");
  },
  // v6 (banks): accounts carry their kind (every account so far was a Schwab brokerage account);
  // each connection's spent provider calls (./quota.ts).
  (sql) => {
    sql.exec("ALTER TABLE accounts ADD COLUMN kind TEXT NOT NULL DEFAULT 'brokerage'");
    sql.exec("CREATE TABLE provider_calls (connection_id TEXT NOT NULL, at INTEGER NOT NULL, units INTEGER NOT NULL)");
    sql.exec("CREATE INDEX provider_calls_connection ON provider_calls (connection_id, at)");
  },
  // v7 (money over time): one balance point per account per UTC day; each account's cash balance
  // and reconciliation; the reconciliation notices of the change feed.
  (sql) => {
    sql.exec(`CREATE TABLE balance_history (account_id TEXT NOT NULL, day TEXT NOT NULL, current TEXT,
      available TEXT, cash TEXT, as_of INTEGER NOT NULL, PRIMARY KEY (account_id, day)) WITHOUT ROWID`);
    sql.exec("ALTER TABLE accounts ADD COLUMN balance_cash TEXT");
    sql.exec("ALTER TABLE accounts ADD COLUMN recon_status TEXT");
    sql.exec("ALTER TABLE accounts ADD COLUMN recon_difference TEXT");
    sql.exec("ALTER TABLE accounts ADD COLUMN recon_since INTEGER");
    sql.exec(`CREATE TABLE reconciliation_notices (seq INTEGER PRIMARY KEY, account_id TEXT NOT NULL,
      status TEXT NOT NULL, difference TEXT NOT NULL, since INTEGER, at INTEGER NOT NULL)`);
  },
  // v8 (traces): the trace that queued each run, which its messages and log lines carry.
  (sql) => {
    sql.exec("ALTER TABLE sync_runs ADD COLUMN trace_id TEXT");
  },
];
