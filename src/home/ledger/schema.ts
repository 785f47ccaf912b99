import type { SchemaStep } from "../../durable/migrate";

/**
 * The ledger's tables inside the user's home object (a step of the home's schema, applied on
 * first use). One user per object, so no user column; money and quantities are exact decimal
 * text; times are UTC epoch ms. Indexes are the ones reads need: upsert keys, per-account date
 * pages, the change feed, pending rows, runs per connection.
 */
export const LEDGER_SCHEMA_STEP: SchemaStep = (sql) => {
  sql.exec(`CREATE TABLE ledger_connections (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    last_synced_at INTEGER,
    -- When the newest applied snapshot was fetched: an older one arriving late is refused.
    applied_fetched_at INTEGER
  )`);
  sql.exec(`CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL,
    provider_account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    mask TEXT NOT NULL,
    currency TEXT NOT NULL,
    balance_current TEXT,
    balance_available TEXT,
    balances_as_of INTEGER NOT NULL,
    missing_since INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (connection_id, provider_account_id)
  )`);
  sql.exec(`CREATE TABLE holdings (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    provider_holding_id TEXT NOT NULL,
    symbol TEXT,
    name TEXT,
    asset_type TEXT NOT NULL,
    quantity TEXT NOT NULL,
    price TEXT,
    market_value TEXT,
    currency TEXT NOT NULL,
    as_of INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (account_id, provider_holding_id)
  )`);
  sql.exec(`CREATE TABLE transactions (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    provider_transaction_id TEXT NOT NULL,
    status TEXT NOT NULL,
    type TEXT NOT NULL,
    description TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    symbol TEXT,
    quantity TEXT,
    price TEXT,
    date INTEGER NOT NULL,
    pending_transaction_id TEXT,
    stale_reported_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    created_seq INTEGER NOT NULL,
    change_seq INTEGER NOT NULL,
    UNIQUE (account_id, provider_transaction_id)
  )`);
  sql.exec("CREATE INDEX transactions_account_date ON transactions (account_id, date, id)");
  sql.exec("CREATE INDEX transactions_feed ON transactions (change_seq)");
  sql.exec("CREATE INDEX transactions_pending ON transactions (date) WHERE status = 'pending'");
  sql.exec(`CREATE TABLE removals (
    seq INTEGER PRIMARY KEY,
    transaction_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    removed_at INTEGER NOT NULL
  )`);
  sql.exec(`CREATE TABLE sync_runs (
    id TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL,
    trigger TEXT NOT NULL,
    status TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    attempts INTEGER NOT NULL DEFAULT 0,
    queued_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    next_attempt_at INTEGER,
    sent_at INTEGER NOT NULL,
    stats TEXT,
    error_code TEXT,
    error_message TEXT
  )`);
  sql.exec("CREATE INDEX sync_runs_connection ON sync_runs (connection_id, queued_at)");
  sql.exec("CREATE INDEX sync_runs_open ON sync_runs (sent_at) WHERE status IN ('queued', 'retrying')");
};
