import { createRoute, z } from "@hono/zod-openapi";
import { ownData, requireAuth } from "../http/auth";
import { depsOf } from "../http/deps";
import { createRouter, jsonContent, problems } from "../http/openapi";
import { authOf, metaOf } from "../http/request";
import { decodeCursor } from "../services/cursor";
import { requestSync } from "../services/sync/request";
import { runsPage } from "../services/sync/runs";
import { ConnectionId } from "../wire/connections";
import { Cursor } from "../wire/data";
import { Limit } from "../wire/identity";
import { SyncQueued, SyncRun } from "../wire/sync";

const tags = ["Sync"];
const security = [{ bearerAuth: [] }];
const idParam = z.object({ id: ConnectionId });
const runsQuery = z.object({ limit: Limit(100, 20), cursor: Cursor });

/** A page of the connection's runs, read in the authorization's call (one more than asked: "more"). */
const runsRead = (c: Parameters<typeof ownData>[0]) => {
  const param = idParam.safeParse(c.req.param());
  const query = runsQuery.safeParse(c.req.query());
  if (!param.success || !query.success) return null;
  const after = decodeCursor(query.data.cursor);
  return {
    kind: "runs" as const,
    connectionId: param.data.id,
    limit: query.data.limit + 1,
    after: after ? { at: after.at.getTime(), id: after.id } : undefined,
  };
};

const routes = {
  sync: createRoute({
    operationId: "requestSync",
    method: "post",
    path: "/{id}/sync",
    tags,
    security,
    middleware: [requireAuth()] as const,
    summary: "Sync the connection now (queued; watch it in GET …/syncs).",
    description: `Queues a run of this connection and answers 202 at once; the work happens in the
background (a Queue consumer), so poll \`GET /api/v1/connections/{id}/syncs\` or the connection's
\`last_synced_at\`. No body.

- If a run of this connection is already queued or running, that run is returned (202, no new run).
- 429 \`sync_too_soon\` with \`Retry-After\` (seconds) and \`retry_at\`: within 5 minutes of the
  connection's last queued run (scheduled or manual), or while the connection cools down after
  provider trouble (\`cooldown_until\`).
- 409 \`reauth_required\`: the provider refused the credentials; send the user through
  \`POST …/reauthorize\`. 409 \`connection_not_ready\`: the connection was never authorized.
- 503 \`sync_disabled\`: syncing is switched off (kill switch), with \`Retry-After\`.

Runs are idempotent and never overlap: two runs of one connection never execute at the same time.`,
    request: { params: idParam },
    responses: {
      202: jsonContent(SyncQueued, "Queued (or already under way)."),
      ...problems(401, 404, 409, 422, 429),
    },
  }),
  runs: createRoute({
    operationId: "listSyncRuns",
    method: "get",
    path: "/{id}/syncs",
    tags,
    security,
    middleware: [requireAuth({ read: runsRead })] as const,
    summary: "The connection's recent sync runs, newest first.",
    description:
      "Each run: trigger, status, attempts, timing, counts (`stats`, on success) and the error. `next_cursor` pages further back.",
    request: { params: idParam, query: runsQuery },
    responses: {
      200: jsonContent(z.object({ syncs: z.array(SyncRun), next_cursor: z.string().nullable() }), "Recent runs."),
      ...problems(401, 404, 422, 429),
    },
  }),
};

export const syncRoutes = createRouter()
  .openapi(routes.sync, async (c) => {
    const { id } = c.req.valid("param");
    const run = await requestSync(depsOf(c), metaOf(c), authOf(c).userId, id);
    return c.json({ sync: { id: run.id, status: run.status } }, 202);
  })
  .openapi(routes.runs, async (c) => {
    const { id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    decodeCursor(cursor); // 422 for a cursor this API did not issue (after authorization)
    return c.json(await runsPage(depsOf(c), authOf(c).userId, id, ownData(c, "runs"), limit), 200);
  });
