/**
 * One column map per ledger table: the row type, the row mapper and the upsert all follow from it
 * (the tables themselves were created by the schema steps, and a test holds each map to its
 * table). Property names are camelCase; a column's name is its property in snake_case. Times are
 * UTC epoch ms in storage and `Date` in rows; money and quantities are exact decimal text.
 */

type Cell = SqlStorageValue | undefined;

/** How one column is stored and read back. */
export interface Column<T> {
  /** The SQLite type as the table declares it. */
  readonly type: "TEXT" | "INTEGER";
  readonly nullable: boolean;
  read(v: Cell): T;
  write(v: T): SqlStorageValue;
}

const column = <T>(type: Column<T>["type"], nullable: boolean, read: Column<T>["read"], write: Column<T>["write"]) => ({
  type,
  nullable,
  read,
  write,
});

export const text = <T extends string = string>(): Column<T> =>
  column<T>(
    "TEXT",
    false,
    (v) => v as T,
    (v) => v,
  );
export const maybeText = <T extends string = string>(): Column<T | null> =>
  column<T | null>(
    "TEXT",
    true,
    (v) => (v === undefined || v === null ? null : (v as T)),
    (v) => v,
  );
export const int = (): Column<number> =>
  column<number>(
    "INTEGER",
    false,
    (v) => v as number,
    (v) => v,
  );
export const maybeInt = (): Column<number | null> =>
  column<number | null>(
    "INTEGER",
    true,
    (v) => (v === undefined || v === null ? null : (v as number)),
    (v) => v,
  );
export const time = (): Column<Date> =>
  column<Date>(
    "INTEGER",
    false,
    (v) => new Date(v as number),
    (v) => v.getTime(),
  );
export const maybeTime = (): Column<Date | null> =>
  column<Date | null>(
    "INTEGER",
    true,
    (v) => (v === undefined || v === null ? null : new Date(v as number)),
    (v) => v?.getTime() ?? null,
  );
/** A JSON document kept as text (e.g. a run's stats). */
export const json = <T>(): Column<T | null> =>
  column<T | null>(
    "TEXT",
    true,
    (v) => (v === undefined || v === null ? null : (JSON.parse(v as string) as T)),
    (v) => (v === null ? null : JSON.stringify(v)),
  );

type Columns = Record<string, Column<unknown>>;
/** A row as the code sees it: each column's value. */
export type RowOf<C extends Columns> = { [K in keyof C]: C[K] extends Column<infer T> ? T : never };

/** `providerAccountId` → `provider_account_id`. */
export const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export interface Table<C extends Columns> {
  readonly name: string;
  readonly columns: C;
  /** The row a query read back. */
  read(record: Record<string, SqlStorageValue>): RowOf<C>;
  /**
   * INSERT of `row` (the columns it has), on a conflict of `key` updating the `update` columns to
   * the new values, or to an SQL expression given for a column (`excluded.x` is the new value).
   */
  upsert<K extends keyof C>(
    row: Pick<RowOf<C>, K>,
    key: readonly (keyof C & string)[],
    update: readonly (K & string)[],
    expressions?: Partial<Record<K & string, string>>,
  ): { sql: string; params: SqlStorageValue[] };
}

export function table<C extends Columns>(name: string, columns: C): Table<C> {
  const entries = Object.entries(columns) as [keyof C & string, Column<unknown>][];
  const statements = new Map<string, string>();
  return {
    name,
    columns,
    read(record) {
      const row = {} as Record<string, unknown>;
      for (const [prop, col] of entries) row[prop] = col.read(record[snake(prop)]);
      return row as RowOf<C>;
    },
    upsert(row, key, update, expressions = {}) {
      const props = (Object.keys(row) as (keyof C & string)[]).filter((p) => p in columns);
      const cacheKey = `${props.join()}|${key.join()}|${update.join()}|${JSON.stringify(expressions)}`;
      let sql = statements.get(cacheKey);
      if (!sql) {
        const names = props.map(snake);
        const sets = update.map((p) => {
          const expression = (expressions as Record<string, string>)[p];
          return `${snake(p)} = ${expression ?? `excluded.${snake(p)}`}`;
        });
        sql = `INSERT INTO ${name} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})
          ON CONFLICT (${key.map(snake).join(", ")}) DO ${sets.length ? `UPDATE SET ${sets.join(", ")}` : "NOTHING"}`;
        statements.set(cacheKey, sql);
      }
      const values = row as Record<string, unknown>;
      return { sql, params: props.map((p) => (columns[p] as Column<unknown>).write(values[p])) };
    },
  };
}
