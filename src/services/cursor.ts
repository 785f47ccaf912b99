import { z } from "zod";
import { fail } from "../errors";

const Position = z.object({ at: z.number().int(), id: z.string().min(1).max(100) });

/** Opaque keyset cursor over (timestamp, id), base64url JSON. */
export function encodeCursor(at: Date, id: string): string {
  return btoa(JSON.stringify({ at: at.getTime(), id }))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

export function decodeCursor(cursor: string | undefined): { at: Date; id: string } | undefined {
  if (!cursor) return undefined;
  try {
    const json = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
    const p = Position.parse(json);
    return { at: new Date(p.at), id: p.id };
  } catch {
    throw fail("validation_failed", "The cursor is not one this API issued.", {
      errors: [{ path: "query.cursor", message: "is not a valid cursor" }],
    });
  }
}
