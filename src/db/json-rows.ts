/**
 * Bulk writes under D1's limits. D1 allows 100 bound parameters per statement and (on the paid
 * plan) 1,000 queries per Worker invocation, so a 10,000-row sync cannot bind columns one by
 * one. Instead a chunk of rows travels as ONE text parameter holding a JSON array, which the
 * statement expands with SQLite's `json_each` (rows stay typed: numbers as numbers, decimal
 * money as text). Chunks stay well under D1's 2,000,000-byte limit for one value.
 */

/** One chunk: the JSON text to bind, and the index of its first row in the whole list. */
export interface JsonChunk {
  json: string;
  offset: number;
  count: number;
}

/** At most this many rows or characters per chunk (a safe margin under D1's per-value cap). */
export const CHUNK_ROWS = 1000;
export const CHUNK_CHARS = 500_000;

/** Splits rows into JSON array texts of at most `maxRows` rows and about `maxChars` characters. */
export function jsonChunks(rows: readonly unknown[], maxRows = CHUNK_ROWS, maxChars = CHUNK_CHARS): JsonChunk[] {
  const chunks: JsonChunk[] = [];
  let parts: string[] = [];
  let size = 2;
  let offset = 0;
  const flush = () => {
    if (parts.length === 0) return;
    chunks.push({ json: `[${parts.join(",")}]`, offset, count: parts.length });
    offset += parts.length;
    parts = [];
    size = 2;
  };
  for (const row of rows) {
    const text = JSON.stringify(row);
    if (parts.length > 0 && (parts.length >= maxRows || size + text.length + 1 > maxChars)) flush();
    parts.push(text);
    size += text.length + 1;
  }
  flush();
  return chunks;
}
