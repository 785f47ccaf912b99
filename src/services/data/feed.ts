/** Reading a change-feed cursor (the page itself is shaped in the user's home: src/home/ledger/feed.ts). */
import { invalidField } from "../../errors";
import { FEED_CURSOR_PREFIX } from "../../home/ledger/feed";
import type { ReadOf } from "../../home/ledger/reads";

const notIssued = () => invalidField("query.cursor", "is not a valid cursor", "The cursor is not one this API issued.");

/** The page the home answered; 422 for a cursor past the feed's end (never issued, or rewound by a restore). */
export function feedOf(answer: ReadOf<"feed">) {
  if (answer.page === null) throw notIssued();
  return answer.page;
}

/** The sequence number in a cursor; 0 (the beginning) when none is given. */
export function decodeFeedCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === "") return 0;
  try {
    if (!cursor.startsWith(FEED_CURSOR_PREFIX)) throw new Error("prefix");
    const text = atob(cursor.slice(FEED_CURSOR_PREFIX.length));
    if (!/^\d{1,15}$/.test(text)) throw new Error("digits");
    return Number(text);
  } catch {
    throw notIssued();
  }
}
