import { invalidField } from "../errors";
import { readCursor } from "../wire/cursor";

export { encodeCursor } from "../wire/cursor";

/** The position in a cursor; 422 for one this API did not issue. */
export function decodeCursor(cursor: string | undefined): { at: Date; id: string } | undefined {
  if (!cursor) return undefined;
  const p = readCursor(cursor);
  if (!p) {
    throw invalidField("query.cursor", "is not a valid cursor", "The cursor is not one this API issued.");
  }
  return { at: new Date(p.at), id: p.id };
}
