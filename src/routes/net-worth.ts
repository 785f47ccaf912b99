import { createRoute, z } from "@hono/zod-openapi";
import { ownData, requireAuth } from "../http/auth";
import { depsOf } from "../http/deps";
import { createRouter, jsonContent, jsonText, problems } from "../http/openapi";
import { netWorthPage, netWorthRead } from "../services/data/balances";
import { DateBound, NET_WORTH_INTERVALS, NetWorth } from "../wire/data";

const query = z.object({
  from: DateBound.optional().openapi({ description: "First day (default: 90 days before `to`)." }),
  to: DateBound.optional().openapi({
    description:
      "Last day (default: today, UTC; outside production, the sandboxes' day if their clock was moved ahead).",
  }),
  interval: z.enum(NET_WORTH_INTERVALS).default("day"),
});

const route = createRoute({
  operationId: "getNetWorth",
  method: "get",
  path: "/",
  tags: ["Data"],
  security: [{ bearerAuth: [] }],
  middleware: [
    requireAuth({
      read: (c) => {
        const q = query.safeParse(c.req.query());
        const deps = depsOf(c);
        return q.success ? netWorthRead(q.data, deps.providers.latest(deps.now())) : null;
      },
    }),
  ] as const,
  summary: "Your net worth over time, per currency.",
  description: `At each interval end (every day; each week's Sunday; each month's last day; and \`to\`), each
account's last known balance from its history, carried forward from an earlier day when it had no sync
that day (\`carried_forward\` says so). Amounts in different currencies are never added: one series per
currency. Credit cards and loans are liabilities: \`liabilities\` adds their balances in their providers'
sign (negative when owed at GoCardless and SimpleFIN), and \`net = assets + liabilities\`. Brokerage
accounts count at their total value. At most 1,100 points per series (422 otherwise).`,
  request: { query },
  responses: { 200: jsonContent(NetWorth, "The series."), ...problems(401, 422, 429) },
});

export const netWorthRoutes = createRouter().openapi(route, (c) => jsonText(c, netWorthPage(ownData(c, "netWorth"))));
