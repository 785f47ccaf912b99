/**
 * A user's sync runs, kept in their home object beside the ledger they write. The home is also
 * the runs' outbox: a run is recorded before its message is sent, and a run still waiting after
 * RESEND_AFTER_MS is sent again (the Worker that recorded it may have died before sending), so
 * delivery is at least once from the ledger's point of view; the consumer is idempotent by run id.
 */
import type { SyncMessage } from "../messages";
import { FINISHED, IN_FLIGHT, SYNC_RUNS, type SyncRunRow, type SyncRunStatus, type SyncTrigger } from "./rows";

type Rec = Record<string, SqlStorageValue>;

/** A run not picked up this long after its message was sent is sent again. */
export const RESEND_AFTER_MS = 2 * 60_000;
/** Runs recorded before they carried a deadline are lost this long after they were queued. */
const LEGACY_HORIZON_MS = 6 * 3_600_000;

/** A run to record: its ids, and how long it may take before it counts as lost (every attempt with backoff). */
export interface RunSpec {
  id: string;
  connectionId: string;
  trigger: SyncTrigger;
  idempotencyKey: string;
  horizonMs: number;
  /** The W3C trace that queued it (src/trace.ts): its messages and log lines carry it. */
  traceId?: string | null;
}

export const toRun = (r: Rec): SyncRunRow => SYNC_RUNS.read(r);

const inList = (statuses: readonly SyncRunStatus[]) => statuses.map((s) => `'${s}'`).join(", ");

/** What a run's message carries (the queue's body). */
export const messageOf = (run: SyncRunRow): SyncMessage => ({
  v: 1,
  run_id: run.id,
  connection_id: run.connectionId,
  trigger: run.trigger,
  idempotency_key: run.idempotencyKey,
  ...(run.traceId ? { trace_id: run.traceId } : {}),
});

/** Columns a run's lifecycle changes. */
export type RunPatch = Partial<{
  status: SyncRunStatus;
  attempts: number;
  started_at: number;
  finished_at: number;
  next_attempt_at: number | null;
  sent_at: number;
  stats: string;
  error_code: string | null;
  error_message: string | null;
}>;

export class Runs {
  constructor(private readonly sql: SqlStorage) {}

  find(id: string): SyncRunRow | null {
    const r = this.sql.exec<Rec>("SELECT * FROM sync_runs WHERE id = ?", id).toArray()[0];
    return r ? toRun(r) : null;
  }

  /** Records a queued run unless its idempotency key exists; returns it, and whether it is new. */
  record(run: RunSpec, now: number) {
    const inserted = this.sql
      .exec<Rec>(
        `INSERT INTO sync_runs (id, connection_id, trigger, status, idempotency_key, queued_at, sent_at, deadline_at, trace_id)
         VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
        run.id,
        run.connectionId,
        run.trigger,
        run.idempotencyKey,
        now,
        now,
        now + run.horizonMs,
        run.traceId ?? null,
      )
      .toArray()[0];
    if (inserted) return { run: toRun(inserted), created: true };
    const existing = this.sql
      .exec<Rec>("SELECT * FROM sync_runs WHERE idempotency_key = ?", run.idempotencyKey)
      .toArray()[0] as Rec;
    return { run: toRun(existing), created: false };
  }

  /** The newest unfinished run of a connection, if any. */
  inFlight(connectionId: string): SyncRunRow | null {
    const r = this.sql
      .exec<Rec>(
        `SELECT * FROM sync_runs WHERE connection_id = ? AND status IN (${inList(IN_FLIGHT)})
         ORDER BY queued_at DESC, id DESC LIMIT 1`,
        connectionId,
      )
      .toArray()[0];
    return r ? toRun(r) : null;
  }

  update(id: string, patch: RunPatch) {
    const keys = Object.keys(patch) as (keyof RunPatch)[];
    if (keys.length === 0) return;
    this.sql.exec(
      `UPDATE sync_runs SET ${keys.map((k) => `${k} = ?`).join(", ")} WHERE id = ?`,
      ...keys.map((k) => patch[k] ?? null),
      id,
    );
  }

  /** Finishes a run unless it already is (a late duplicate must not overwrite an outcome). */
  finish(id: string, patch: RunPatch): boolean {
    const keys = Object.keys(patch) as (keyof RunPatch)[];
    const cursor = this.sql.exec(
      `UPDATE sync_runs SET ${keys.map((k) => `${k} = ?`).join(", ")}
       WHERE id = ? AND status IN (${inList(IN_FLIGHT)})`,
      ...keys.map((k) => patch[k] ?? null),
      id,
    );
    cursor.toArray();
    return cursor.rowsWritten > 0;
  }

  /** A connection's runs, newest first, keyset-paginated on (queued_at, id). */
  list(connectionId: string, limit: number, after?: { at: number; id: string }): SyncRunRow[] {
    const page = after ? "AND (queued_at < ? OR (queued_at = ? AND id < ?))" : "";
    const params: SqlStorageValue[] = after ? [after.at, after.at, after.id] : [];
    return this.sql
      .exec<Rec>(
        `SELECT * FROM sync_runs WHERE connection_id = ? ${page} ORDER BY queued_at DESC, id DESC LIMIT ?`,
        connectionId,
        ...params,
        limit,
      )
      .toArray()
      .map(toRun);
  }

  /** Queued runs whose message was sent before `before` and never picked up (the outbox resends). */
  unsent(before: number): SyncRunRow[] {
    return this.sql
      .exec<Rec>("SELECT * FROM sync_runs WHERE status = 'queued' AND sent_at <= ? ORDER BY sent_at LIMIT 50", before)
      .toArray()
      .map(toRun);
  }

  /** Whether this home holds any run at all (a fresh connection's first runs, before any data). */
  isEmpty(): boolean {
    return this.sql.exec("SELECT 1 FROM sync_runs LIMIT 1").toArray().length === 0;
  }

  /** When the next queued run becomes due for a resend, if any. */
  nextResend(): number | null {
    const t = this.sql
      .exec<{ t: number | null }>("SELECT min(sent_at) AS t FROM sync_runs WHERE status = 'queued'")
      .one().t;
    return t === null ? null : t + RESEND_AFTER_MS;
  }

  /** Unfinished runs past their deadline: lost for good (reconciliation fails them). */
  lost(now: number): SyncRunRow[] {
    return this.sql
      .exec<Rec>(
        `SELECT * FROM sync_runs WHERE status IN (${inList(IN_FLIGHT)})
         AND COALESCE(deadline_at, queued_at + ?) < ? LIMIT 100`,
        LEGACY_HORIZON_MS,
        now,
      )
      .toArray()
      .map(toRun);
  }

  /** Deletes finished runs queued before `before` (kept 90 days for the API and support). */
  purge(before: number) {
    this.sql.exec(`DELETE FROM sync_runs WHERE status IN (${inList(FINISHED)}) AND queued_at < ?`, before);
  }
}
