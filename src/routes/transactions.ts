import { createRoute, z } from "@hono/zod-openapi";
import { ownData, readFrom, requireAuth } from "../http/auth";
import { createRouter, jsonContent, jsonText, problems } from "../http/openapi";
import { decodeFeedCursor, feedOf } from "../services/data/feed";
import { FeedPage } from "../wire/data";
import { Limit } from "../wire/identity";

const query = z.object({
  cursor: z.string().max(100).optional(),
  count: Limit(500, 100).openapi({ description: "Changes per page (1–500, default 100)." }),
});

// The home shapes and serialises the page in the authorization's call (src/home/ledger/reads.ts).
const feed = readFrom("query", query, (q) => ({ kind: "feed", after: decodeFeedCursor(q.cursor), count: q.count }));

const sync = createRoute({
  operationId: "syncTransactions",
  method: "get",
  path: "/sync",
  tags: ["Data"],
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth({ read: feed })] as const,
  summary: "Your transaction change feed: what was added, modified or removed since a cursor.",
  description: `Start without \`cursor\` to receive every transaction as \`added\`; keep the returned
\`next_cursor\` and call again with it (immediately while \`has_more\` is true, later to poll). Each
page holds at most \`count\` changes in the order they happened. Apply them in order: upsert
\`added\` and \`modified\` by \`id\`, delete \`removed\` ids (ignore ids you never had).

- A pending transaction that posts under a new provider id arrives as \`added\` (the posted one,
  whose \`pending_transaction_id\` names the pending one) and \`removed\` (the pending one).
- Deleting a connection reports its transactions as \`removed\`.
- A transaction changed several times since your cursor is reported once, in its latest state.
- Replaying from any cursor this endpoint returned converges on the same state, so a client that
  lost its place can resume from an older cursor safely. An unknown cursor answers 422.`,
  request: { query },
  responses: {
    200: jsonContent(FeedPage, "A page of changes."),
    ...problems(401, 422, 429),
  },
});

export const transactionRoutes = createRouter().openapi(sync, (c) => {
  // An unknown cursor is refused by the query's validation of the same rule, after authorization.
  decodeFeedCursor(c.req.valid("query").cursor);
  return jsonText(c, feedOf(ownData(c, "feed")));
});
