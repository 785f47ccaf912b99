import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin, requireAuth } from "../http/auth";
import { depsOf } from "../http/deps";
import { createRouter, jsonContent, problems } from "../http/openapi";
import { authOf, metaOf } from "../http/request";
import { deadLetters, replayDeadLetter } from "../services/sync/dead-letters";
import { Cursor, IdParam } from "../wire/data";
import { Limit } from "../wire/identity";
import { DeadLetter, SyncQueued } from "../wire/sync";

const tags = ["Administration"];
const security = [{ bearerAuth: [] }];
const guard = [requireAuth(), requireAdmin()];

const routes = {
  list: createRoute({
    operationId: "adminListDeadLetters",
    method: "get",
    path: "/dead-letters",
    tags,
    security,
    middleware: guard,
    summary: "Sync runs that used up their attempts (the dead-letter queue's record), newest first.",
    description: `A run lands here after SYNC_MAX_ATTEMPTS failed attempts (or when its consumer crashed on
every delivery); its connection was put in \`error\`. \`state\`: \`open\` (default, not yet replayed),
\`replayed\`, or \`all\`.`,
    request: {
      query: z.object({
        state: z.enum(["open", "replayed", "all"]).default("open"),
        limit: Limit(100, 50),
        cursor: Cursor,
      }),
    },
    responses: {
      200: jsonContent(
        z.object({ dead_letters: z.array(DeadLetter), next_cursor: z.string().nullable() }),
        "A page of dead letters.",
      ),
      ...problems(401, 403, 422, 429),
    },
  }),
  replay: createRoute({
    operationId: "adminReplayDeadLetter",
    method: "post",
    path: "/dead-letters/{id}/replay",
    tags,
    security,
    middleware: guard,
    summary: "Replay a dead letter as a new sync run (once).",
    description: `Queues a new run (trigger \`replay\`, fresh attempts) for the dead letter's connection,
regardless of the manual-sync spacing and any cooldown. Audited as \`sync.replayed\`. 409
\`already_replayed\` (with \`replay_run_id\`); 409 \`reauth_required\` / \`connection_not_ready\` when the
connection needs its user first; 503 \`sync_disabled\` under the kill switch.`,
    request: { params: z.object({ id: IdParam("dead letter", "dlq_4hV9kR2mQpX1bN7cT4wZyA") }) },
    responses: {
      202: jsonContent(SyncQueued.extend({ dead_letter: DeadLetter }), "Queued."),
      ...problems(401, 403, 404, 409, 422, 429),
    },
  }),
};

export const adminSyncRoutes = createRouter()
  .openapi(routes.list, async (c) => c.json(await deadLetters(depsOf(c), c.req.valid("query")), 200))
  .openapi(routes.replay, async (c) =>
    c.json(await replayDeadLetter(depsOf(c), metaOf(c), authOf(c).userId, c.req.valid("param").id), 202),
  );
