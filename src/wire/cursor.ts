/** Keyset cursors over (timestamp, id): opaque to clients, base64url JSON (RFC 4648 §5). */
import { z } from "zod";

const Position = z.object({ at: z.number().int(), id: z.string().min(1).max(100) });

export function encodeCursor(at: Date | number, id: string): string {
  return btoa(JSON.stringify({ at: typeof at === "number" ? at : at.getTime(), id }))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** The position in a cursor this API issued, or null when it is not one. */
export function readCursor(cursor: string): { at: number; id: string } | null {
  try {
    const p = Position.safeParse(JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/"))));
    return p.success ? p.data : null;
  } catch {
    return null;
  }
}
