/**
 * The user's ledger in their home object's SQLite (docs/design.md "Where data lives"): reads for
 * the data API and the change feed, and the sync's apply, which runs in one `transactionSync()`
 * so nothing is ever half-written. Queries are synchronous and in-process: no network hop, no
 * bound-parameter limits, so rows are written one statement each.
 */
import type { AnsweredAccount, StoredState, SyncPlan } from "./plan";
import {
  ACCOUNTS,
  type AccountRow,
  BALANCE_HISTORY,
  type BalancePoint,
  CONNECTION_MARKS,
  HOLDINGS,
  type HoldingRow,
  RECONCILIATION_NOTICES,
  REMOVALS,
  type ReconciliationNotice,
  type RemovalRow,
  TRANSACTIONS,
  type TransactionRow,
} from "./rows";

type Rec = Record<string, SqlStorageValue>;
const toAccount = (r: Rec): AccountRow => ACCOUNTS.read(r);
const toHolding = (r: Rec): HoldingRow => HOLDINGS.read(r);
export const toTransaction = (r: Rec): TransactionRow => TRANSACTIONS.read(r);
const toRemoval = (r: Rec): RemovalRow => REMOVALS.read(r);
const toPoint = (r: Rec): BalancePoint => BALANCE_HISTORY.read(r);
const toNotice = (r: Rec): ReconciliationNotice => RECONCILIATION_NOTICES.read(r);
const text = (v: SqlStorageValue | undefined) => v as string;
const date = (v: SqlStorageValue | undefined) => new Date(v as number);
const maybeDate = (v: SqlStorageValue | undefined) => (v === null || v === undefined ? null : new Date(v as number));

/** An account with when its connection last synced (it dates the balances, views.ts). */
export interface AccountWithSync {
  account: AccountRow;
  lastSyncedAt: Date | null;
}

const FEED_KEY = "feed_seq";
/** A day of slack below a window: rows dated just outside it are compared, not re-inserted. */
const WINDOW_SLACK_MS = 86_400_000;

export class Ledger {
  /**
   * The accounts list per filter ("" = all), kept between reads: it is the most read and least
   * changed part of a ledger, and one SQLite statement was an eighth of the Worker's busy time in
   * `GET /accounts` (bench/README.md). Every write goes through `write()`, which forgets it.
   */
  private readonly accountLists = new Map<string, AccountWithSync[]>();

  constructor(private readonly storage: DurableObjectStorage) {}

  private get sql() {
    return this.storage.sql;
  }

  /** Runs a write and returns how many rows it wrote. */
  private write(query: string, ...params: SqlStorageValue[]): number {
    this.accountLists.clear();
    const cursor = this.sql.exec(query, ...params);
    cursor.toArray();
    return cursor.rowsWritten;
  }

  /**
   * One `transactionSync()`. The accounts list is forgotten again when it ends: a read inside
   * that saw rows a rollback then undid must not outlive it.
   */
  private atomically<T>(work: () => T): T {
    try {
      return this.storage.transactionSync(work);
    } finally {
      this.accountLists.clear();
    }
  }

  private all<T>(query: string, map: (r: Rec) => T, ...params: SqlStorageValue[]): T[] {
    return this.sql
      .exec<Rec>(query, ...params)
      .toArray()
      .map(map);
  }

  // -- connections the ledger knows -----------------------------------------------------------

  /** Notes a connection (on completion), so its data and runs have an owner here. */
  recordConnection(id: string, provider: string) {
    const { sql, params } = CONNECTION_MARKS.upsert({ id, provider }, ["id"], []);
    this.write(sql, ...params);
  }

  /** Whether this object holds a ledger at all (a user's home, not an object that never had one). */
  isEmpty(): boolean {
    return this.sql.exec("SELECT 1 FROM ledger_connections LIMIT 1").toArray().length === 0;
  }

  hasConnection(id: string): boolean {
    return this.sql.exec("SELECT 1 FROM ledger_connections WHERE id = ?", id).toArray().length > 0;
  }

  hasAccount(id: string): boolean {
    return this.sql.exec("SELECT 1 FROM accounts WHERE id = ?", id).toArray().length > 0;
  }

  connectionState(id: string): { lastSyncedAt: Date | null; appliedFetchedAt: number | null } | null {
    const r = this.sql.exec<Rec>("SELECT * FROM ledger_connections WHERE id = ?", id).toArray()[0];
    if (!r) return null;
    const { lastSyncedAt, appliedFetchedAt } = CONNECTION_MARKS.read(r);
    return { lastSyncedAt, appliedFetchedAt };
  }

  // -- reads for the API ----------------------------------------------------------------------

  accounts(connectionId?: string): AccountWithSync[] {
    const key = connectionId ?? "";
    let list = this.accountLists.get(key);
    if (!list) {
      list = this.readAccounts(connectionId);
      this.accountLists.set(key, list);
    }
    return list;
  }

  private readAccounts(connectionId: string | undefined): AccountWithSync[] {
    const rows = connectionId
      ? this.sql
          .exec<Rec>(
            `SELECT a.*, c.last_synced_at AS synced FROM accounts a JOIN ledger_connections c ON c.id = a.connection_id
             WHERE a.connection_id = ? ORDER BY a.created_at, a.id`,
            connectionId,
          )
          .toArray()
      : this.sql
          .exec<Rec>(
            `SELECT a.*, c.last_synced_at AS synced FROM accounts a JOIN ledger_connections c ON c.id = a.connection_id
             ORDER BY a.created_at, a.id`,
          )
          .toArray();
    return rows.map((r) => ({ account: toAccount(r), lastSyncedAt: maybeDate(r.synced) }));
  }

  account(id: string): AccountWithSync | null {
    const r = this.sql
      .exec<Rec>(
        `SELECT a.*, c.last_synced_at AS synced FROM accounts a JOIN ledger_connections c ON c.id = a.connection_id
         WHERE a.id = ?`,
        id,
      )
      .toArray()[0];
    return r ? { account: toAccount(r), lastSyncedAt: maybeDate(r.synced) } : null;
  }

  holdings(accountId: string): HoldingRow[] {
    return this.all("SELECT * FROM holdings WHERE account_id = ? ORDER BY symbol, id", toHolding, accountId);
  }

  /** One account's transactions, newest first, in [from, to], keyset-paginated on (date, id). */
  transactions(
    accountId: string,
    f: { from?: number; to?: number; limit: number; after?: { at: number; id: string } },
  ): TransactionRow[] {
    const where = ["account_id = ?"];
    const params: SqlStorageValue[] = [accountId];
    if (f.from !== undefined) {
      where.push("date >= ?");
      params.push(f.from);
    }
    if (f.to !== undefined) {
      where.push("date <= ?");
      params.push(f.to);
    }
    if (f.after) {
      where.push("(date < ? OR (date = ? AND id < ?))");
      params.push(f.after.at, f.after.at, f.after.id);
    }
    return this.all(
      `SELECT * FROM transactions WHERE ${where.join(" AND ")} ORDER BY date DESC, id DESC LIMIT ?`,
      toTransaction,
      ...params,
      f.limit,
    );
  }

  /** The last feed number handed out (0 before any change). */
  feedSeq(): number {
    return this.storage.kv.get<number>(FEED_KEY) ?? 0;
  }

  /** Changes, removals and notices after feed number `after`, each in feed order, at most `limit` of each. */
  feed(
    after: number,
    limit: number,
  ): { changes: TransactionRow[]; removals: RemovalRow[]; notices: ReconciliationNotice[] } {
    return {
      notices: this.all(
        "SELECT * FROM reconciliation_notices WHERE seq > ? ORDER BY seq LIMIT ?",
        toNotice,
        after,
        limit,
      ),
      changes: this.all(
        "SELECT * FROM transactions WHERE change_seq > ? ORDER BY change_seq LIMIT ?",
        toTransaction,
        after,
        limit,
      ),
      removals: this.all("SELECT * FROM removals WHERE seq > ? ORDER BY seq LIMIT ?", toRemoval, after, limit),
    };
  }

  // -- the sync -------------------------------------------------------------------------------

  /** The provider account references the ledger holds for a connection (they fetch incrementally). */
  knownAccounts(connectionId: string): string[] {
    return this.all(
      "SELECT provider_account_id FROM accounts WHERE connection_id = ?",
      (r) => text(r.provider_account_id),
      connectionId,
    );
  }

  /**
   * What the plan compares the answer with: the connection's accounts and holdings, and per
   * answered account its transactions dated inside the window (with a day of slack) plus every
   * pending one (a pending item may post under a new id and must be found to be replaced).
   */
  /**
   * Re-links accounts another of this user's connections to the same provider already brought
   * (the same provider account id: for Schwab the account number's hash): they move to this
   * connection with their holdings, transactions and feed numbers, so a second connection to one
   * login never duplicates them. Returns how many moved and which connections they left empty
   * (those are retired by the caller).
   */
  adopt(connectionId: string, provider: string, providerAccountIds: string[]): { moved: number; emptied: string[] } {
    if (providerAccountIds.length === 0) return { moved: 0, emptied: [] };
    const candidates = this.all(
      `SELECT a.id, a.connection_id FROM accounts a JOIN ledger_connections c ON c.id = a.connection_id
       WHERE c.provider = ? AND a.connection_id != ?
         AND a.provider_account_id IN (SELECT value FROM json_each(?))
         AND a.provider_account_id NOT IN (SELECT provider_account_id FROM accounts WHERE connection_id = ?)`,
      (r) => ({ id: text(r.id), from: text(r.connection_id) }),
      provider,
      connectionId,
      JSON.stringify(providerAccountIds),
      connectionId,
    );
    for (const a of candidates) this.write("UPDATE accounts SET connection_id = ? WHERE id = ?", connectionId, a.id);
    const from = [...new Set(candidates.map((a) => a.from))];
    const emptied = from.filter(
      (id) => this.sql.exec("SELECT 1 FROM accounts WHERE connection_id = ? LIMIT 1", id).toArray().length === 0,
    );
    return { moved: candidates.length, emptied };
  }

  storedState(connectionId: string, answer: AnsweredAccount[]): StoredState {
    const accounts = this.all("SELECT * FROM accounts WHERE connection_id = ?", toAccount, connectionId);
    const holdings = this.all(
      "SELECT h.* FROM holdings h JOIN accounts a ON a.id = h.account_id WHERE a.connection_id = ?",
      toHolding,
      connectionId,
    );
    const byRef = new Map(accounts.map((a) => [a.providerAccountId, a]));
    const transactions = new Map<string, TransactionRow[]>();
    for (const { account, since } of answer) {
      const stored = byRef.get(account.providerAccountId);
      if (!stored) continue;
      transactions.set(
        stored.id,
        this.all(
          "SELECT * FROM transactions WHERE account_id = ? AND (date >= ? OR status = 'pending')",
          toTransaction,
          stored.id,
          since.getTime() - WINDOW_SLACK_MS,
        ),
      );
    }
    const points = new Map(
      this.all(
        // Each account's latest point by its key (account, day): one lookup per account, however
        // long the history.
        `SELECT h.* FROM accounts a JOIN balance_history h ON h.account_id = a.id
           AND h.day = (SELECT MAX(day) FROM balance_history WHERE account_id = a.id)
         WHERE a.connection_id = ?`,
        toPoint,
        connectionId,
      ).map((p) => [p.accountId, p]),
    );
    return { accounts, holdings, transactions, points };
  }

  /**
   * Writes a plan atomically (one `transactionSync`): accounts, holdings, transactions with their
   * feed numbers, tombstones for replaced pending rows, and the connection's sync marks.
   * Returns the rows written (0 when nothing changed but the marks).
   */
  apply(connectionId: string, plan: SyncPlan, now: number, fetchedAt: number): number {
    return this.atomically(() => {
      let written = 0;
      let seq = this.storage.kv.get<number>(FEED_KEY) ?? 0;
      const at = new Date(now);
      for (const a of plan.accounts) {
        const row = { ...a, connectionId, missingSince: null, createdAt: at, updatedAt: at };
        const update = [
          "name",
          "type",
          "kind",
          "mask",
          "currency",
          "balanceCurrent",
          "balanceAvailable",
          "balancesAsOf",
          "balanceCash",
          "reconStatus",
          "reconDifference",
          "reconSince",
          "missingSince",
          "updatedAt",
        ] as const;
        const { sql, params } = ACCOUNTS.upsert(row, ["connectionId", "providerAccountId"], update);
        written += this.write(sql, ...params);
      }
      for (const id of plan.missingAccountIds) {
        written += this.write(
          "UPDATE accounts SET missing_since = ?, updated_at = ? WHERE id = ? AND missing_since IS NULL",
          now,
          now,
          id,
        );
      }
      for (const id of plan.removedHoldingIds) written += this.write("DELETE FROM holdings WHERE id = ?", id);
      for (const h of plan.holdings) {
        const update = [
          "symbol",
          "name",
          "assetType",
          "quantity",
          "price",
          "marketValue",
          "currency",
          "asOf",
          "updatedAt",
        ] as const;
        const row = { ...h, createdAt: at, updatedAt: at };
        const { sql, params } = HOLDINGS.upsert(row, ["accountId", "providerHoldingId"], update);
        written += this.write(sql, ...params);
      }
      for (const t of plan.transactions) {
        seq += 1;
        const row = { ...t, createdAt: at, updatedAt: at, createdSeq: seq, changeSeq: seq };
        const update = [
          "status",
          "type",
          "description",
          "amount",
          "currency",
          "symbol",
          "quantity",
          "price",
          "date",
          "pendingTransactionId",
          "updatedAt",
          "changeSeq",
        ] as const;
        const { sql, params } = TRANSACTIONS.upsert(row, ["accountId", "providerTransactionId"], update, {
          // A posted row keeps the pending one it replaced, even if a later answer names none.
          pendingTransactionId: "COALESCE(excluded.pending_transaction_id, transactions.pending_transaction_id)",
        });
        written += this.write(sql, ...params);
      }
      for (const r of plan.removedTransactions) {
        seq += 1;
        const removal = REMOVALS.upsert(
          { seq, transactionId: r.id, accountId: r.accountId, reason: r.reason, removedAt: at },
          ["seq"],
          [],
        );
        written += this.write(removal.sql, ...removal.params);
        written += this.write("DELETE FROM transactions WHERE id = ?", r.id);
      }
      for (const p of plan.balancePoints) {
        const point = BALANCE_HISTORY.upsert(p, ["accountId", "day"], ["current", "available", "cash", "asOf"]);
        written += this.write(point.sql, ...point.params);
      }
      for (const n of plan.notices) {
        seq += 1;
        const notice = RECONCILIATION_NOTICES.upsert({ ...n, seq, at }, ["seq"], []);
        written += this.write(notice.sql, ...notice.params);
      }
      this.storage.kv.put(FEED_KEY, seq);
      this.write(
        "UPDATE ledger_connections SET last_synced_at = ?, applied_fetched_at = ? WHERE id = ?",
        now,
        fetchedAt,
        connectionId,
      );
      return written;
    });
  }

  /** Every connection the ledger holds data for. */
  connectionIds(): string[] {
    return this.sql
      .exec<{ id: string }>("SELECT id FROM ledger_connections")
      .toArray()
      .map((r) => r.id);
  }

  /**
   * Removes a connection's data: its transactions leave the change feed as `removed`
   * (`connection_deleted`), then the rows, holdings, accounts and the connection's runs go.
   */
  deleteConnection(connectionId: string, now: number): number {
    return this.atomically(() => {
      let seq = this.storage.kv.get<number>(FEED_KEY) ?? 0;
      const rows = this.all(
        `SELECT t.id, t.account_id FROM transactions t JOIN accounts a ON a.id = t.account_id
         WHERE a.connection_id = ? ORDER BY t.id`,
        (r) => ({ id: text(r.id), accountId: text(r.account_id) }),
        connectionId,
      );
      for (const r of rows) {
        seq += 1;
        this.write(
          "INSERT INTO removals (seq, transaction_id, account_id, reason, removed_at) VALUES (?, ?, ?, 'connection_deleted', ?)",
          seq,
          r.id,
          r.accountId,
          now,
        );
      }
      this.storage.kv.put(FEED_KEY, seq);
      const accounts = "SELECT id FROM accounts WHERE connection_id = ?";
      this.write(`DELETE FROM transactions WHERE account_id IN (${accounts})`, connectionId);
      this.write(`DELETE FROM holdings WHERE account_id IN (${accounts})`, connectionId);
      this.write(`DELETE FROM balance_history WHERE account_id IN (${accounts})`, connectionId);
      this.write(`DELETE FROM reconciliation_notices WHERE account_id IN (${accounts})`, connectionId);
      this.write("DELETE FROM accounts WHERE connection_id = ?", connectionId);
      this.write("DELETE FROM sync_runs WHERE connection_id = ?", connectionId);
      this.write("DELETE FROM ledger_connections WHERE id = ?", connectionId);
      return rows.length;
    });
  }

  /** Pending rows dated before `before` that were never reported (at most 500 a pass). */
  unpostedPending(before: number): { id: string; connectionId: string; date: Date }[] {
    return this.all(
      `SELECT t.id, a.connection_id, t.date FROM transactions t JOIN accounts a ON a.id = t.account_id
       WHERE t.status = 'pending' AND t.date < ? AND t.stale_reported_at IS NULL ORDER BY t.date LIMIT 500`,
      (r) => ({ id: text(r.id), connectionId: text(r.connection_id), date: date(r.date) }),
      before,
    );
  }

  /** Marks pending rows reported (after the report is written, so a failed write is retried). */
  markReported(ids: string[], now: number) {
    this.atomically(() => {
      for (const id of ids) this.write("UPDATE transactions SET stale_reported_at = ? WHERE id = ?", now, id);
    });
  }
}
