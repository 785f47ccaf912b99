import { createRoute, z } from "@hono/zod-openapi";
import { ownData, readFrom, requireAuth } from "../http/auth";
import { depsOf } from "../http/deps";
import { createRouter, jsonContent, jsonText, problems } from "../http/openapi";
import { authOf } from "../http/request";
import { accountOne, accountsList, holdingsOf, transactionsPage, transactionsRead } from "../services/data/accounts";
import { balancesPage, balancesRead } from "../services/data/balances";
import { Account, BalancesPage, Cursor, DateBound, Holding, IdParam, TransactionsPage } from "../wire/data";
import { Limit } from "../wire/identity";

const tags = ["Data"];
const security = [{ bearerAuth: [] }];
const idParam = z.object({ id: IdParam("account", "acc_Qm3kR9xV2pL7nB4cT8wZyA") });
const listQuery = z.object({
  connection_id: z.string().min(1).max(100, "is not a connection id").optional().openapi({
    description: "Only the accounts of this connection (yours).",
  }),
});
const pageQuery = z.object({
  from: DateBound.optional(),
  to: DateBound.optional(),
  limit: Limit(500, 100),
  cursor: Cursor,
});

const balancesQuery = z.object({
  from: DateBound.optional(),
  to: DateBound.optional(),
  limit: Limit(1000, 366),
  cursor: Cursor,
});

// What each route reads in the authorization's call to the user's home (src/http/auth.ts).
const reads = {
  list: readFrom("query", listQuery, (q) => ({ kind: "accounts", connectionId: q.connection_id })),
  get: readFrom("param", idParam, (p) => ({ kind: "account", id: p.id })),
  holdings: readFrom("param", idParam, (p) => ({ kind: "holdings", accountId: p.id })),
  balances: (c: Parameters<ReturnType<typeof readFrom>>[0]) => {
    const param = idParam.safeParse(c.req.param());
    const query = balancesQuery.safeParse(c.req.query());
    return param.success && query.success ? balancesRead(param.data.id, query.data) : null;
  },
  transactions: (c: Parameters<ReturnType<typeof readFrom>>[0]) => {
    const param = idParam.safeParse(c.req.param());
    const query = pageQuery.safeParse(c.req.query());
    return param.success && query.success ? transactionsRead(param.data.id, query.data) : null;
  },
};

const routes = {
  list: createRoute({
    operationId: "listAccounts",
    method: "get",
    path: "/",
    tags,
    security,
    middleware: [requireAuth({ read: reads.list })] as const,
    summary: "Your accounts across connections (or of one connection), oldest first.",
    description:
      "Accounts appear after a connection's first successful sync. Balances are exact decimal strings with the time the provider last confirmed them. `connection_id` of a connection that is not yours answers 404.",
    request: { query: listQuery },
    responses: {
      200: jsonContent(z.object({ accounts: z.array(Account) }), "Your accounts."),
      ...problems(401, 404, 422, 429),
    },
  }),
  get: createRoute({
    operationId: "getAccount",
    method: "get",
    path: "/{id}",
    tags,
    security,
    middleware: [requireAuth({ read: reads.get })] as const,
    summary: "One of your accounts (another user's answers 404).",
    request: { params: idParam },
    responses: { 200: jsonContent(Account, "The account."), ...problems(401, 404, 422, 429) },
  }),
  holdings: createRoute({
    operationId: "listHoldings",
    method: "get",
    path: "/{id}/holdings",
    tags,
    security,
    middleware: [requireAuth({ read: reads.holdings })] as const,
    summary: "The account's positions, as of the last complete provider answer.",
    description:
      "Holdings are replaced per account only from a complete, valid provider answer; a failed or empty answer leaves them as they were.",
    request: { params: idParam },
    responses: {
      200: jsonContent(z.object({ holdings: z.array(Holding) }), "The positions."),
      ...problems(401, 404, 422, 429),
    },
  }),
  transactions: createRoute({
    operationId: "listTransactions",
    method: "get",
    path: "/{id}/transactions",
    tags,
    security,
    middleware: [requireAuth({ read: reads.transactions })] as const,
    summary: "The account's transactions, newest first, with date filters and cursor pages.",
    description: `\`from\` and \`to\` are inclusive and accept \`YYYY-MM-DD\` (a \`to\` date covers its whole UTC
day) or an RFC 3339 timestamp; \`from\` after \`to\` answers 422. Pages are keyset-paginated on
(date, id): pass \`next_cursor\` back as \`cursor\` with the same filters; it stays stable while syncs
add rows. To mirror a user's transactions incrementally, use \`GET /api/v1/transactions/sync\`.`,
    request: {
      params: idParam,
      query: pageQuery,
    },
    responses: {
      200: jsonContent(TransactionsPage, "A page of transactions."),
      ...problems(401, 404, 422, 429),
    },
  }),
  balances: createRoute({
    operationId: "listBalances",
    method: "get",
    path: "/{id}/balances",
    tags,
    security,
    middleware: [requireAuth({ read: reads.balances })] as const,
    summary: "The account's balance history: one point per UTC day with a sync, oldest first.",
    description: `Every sync records the balances the provider reported; one point a day is kept (the last of
the day, by the UTC date of the provider's \`as_of\`). Days without a sync are absent, never invented;
a day's point is only ever replaced by a later sync of the same day. \`from\` and \`to\` are inclusive
days (\`YYYY-MM-DD\`, or a timestamp's UTC day). Pass \`next_cursor\` back as \`cursor\` for the next page.
The history goes with the account (a deleted connection, an erased user).`,
    request: { params: idParam, query: balancesQuery },
    responses: {
      200: jsonContent(BalancesPage, "A page of daily balances."),
      ...problems(401, 404, 422, 429),
    },
  }),
};

export const accountRoutes = createRouter()
  .openapi(routes.list, async (c) => {
    const connectionId = c.req.valid("query").connection_id;
    return c.json(await accountsList(depsOf(c), authOf(c).userId, ownData(c, "accounts"), connectionId), 200);
  })
  .openapi(routes.get, (c) => c.json(accountOne(ownData(c, "account")), 200))
  .openapi(routes.holdings, (c) => c.json(holdingsOf(ownData(c, "holdings")), 200))
  .openapi(routes.transactions, (c) => jsonText(c, transactionsPage(ownData(c, "transactionsPage"))))
  .openapi(routes.balances, (c) => jsonText(c, balancesPage(ownData(c, "balances"))));
