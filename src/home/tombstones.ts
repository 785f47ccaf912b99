/**
 * What a home remembers after a deletion, so no late write brings data back (docs/security.md,
 * second pass item 1): the mark of an erased account, and the ids of deleted connections. A sync
 * that fetched before the deletion asks here before it writes, inside the same single-threaded
 * object, so the check and the write cannot be interleaved with the delete.
 */
const ERASED_KEY = "erased_at";
/** A deleted connection's id is kept long after any run of it could still arrive (runs live hours). */
const TOMBSTONE_MS = 90 * 86_400_000;

export class Tombstones {
  constructor(private readonly storage: DurableObjectStorage) {}

  /** True once the account was erased: nothing may be written here again. */
  get erased(): boolean {
    return this.storage.kv.get<number>(ERASED_KEY) !== undefined;
  }

  markErased(now: number): void {
    this.storage.kv.put(ERASED_KEY, now);
  }

  /** Whether writes for this connection are refused (it was deleted, or the account was). */
  refuses(connectionId: string): boolean {
    if (this.erased) return true;
    return this.storage.sql.exec("SELECT 1 FROM deleted_connections WHERE id = ?", connectionId).toArray().length > 0;
  }

  bury(connectionId: string, now: number): void {
    this.storage.sql.exec(
      "INSERT INTO deleted_connections (id, deleted_at) VALUES (?, ?) ON CONFLICT(id) DO NOTHING",
      connectionId,
      now,
    );
  }

  purge(now: number): void {
    this.storage.sql.exec("DELETE FROM deleted_connections WHERE deleted_at <= ?", now - TOMBSTONE_MS);
  }

  nextPurge(): number | null {
    const t = this.storage.sql
      .exec<{ t: number | null }>("SELECT min(deleted_at) AS t FROM deleted_connections")
      .one().t;
    return t === null ? null : t + TOMBSTONE_MS;
  }
}
