import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "./client";

/**
 * Runs a variable-length list of statements as one D1 batch (one transaction); an empty list is
 * a no-op. Callers that need typed results use `db.batch` with a tuple instead.
 */
export async function batchAll(db: Db, items: BatchItem<"sqlite">[]): Promise<unknown[]> {
  const [first, ...rest] = items;
  if (!first) return [];
  return (await db.batch([first, ...rest])) as unknown[];
}
