/**
 * Raw SQL statements run as one D1 batch (one transaction). The sync's bulk writes need SQL the
 * query builder cannot express (INSERT … SELECT FROM json_each … ON CONFLICT DO UPDATE), and
 * drizzle's D1 batch cannot carry a raw statement with parameters, so they are rendered here and
 * handed to D1 directly, which also returns each statement's `meta.rows_written`.
 */
import type { SQL } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { Db } from "./client";

const dialect = new SQLiteAsyncDialect({ casing: "snake_case" });

/** A rendered statement: SQL text with `?` placeholders and its parameters. */
export interface RawStatement {
  sql: string;
  params: unknown[];
}

/** Renders a drizzle `sql` template (values become bound parameters, never inlined). */
export const raw = (query: SQL): RawStatement => {
  const { sql, params } = dialect.sqlToQuery(query);
  return { sql, params };
};

/** Runs the statements as one batch; an empty list is a no-op. */
export async function runRawBatch(db: Db, statements: RawStatement[]): Promise<D1Result[]> {
  if (statements.length === 0) return [];
  const d1 = db.$client;
  return d1.batch(statements.map((s) => d1.prepare(s.sql).bind(...s.params)));
}
