import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin, requireAuth } from "../http/auth";
import { depsOf } from "../http/deps";
import { createRouter, jsonContent, problems } from "../http/openapi";
import { authOf, metaOf } from "../http/request";
import { driftingAccounts } from "../services/admin/reconciliation";
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
  drifts: createRoute({
    operationId: "adminListDrifts",
    method: "get",
    path: "/drifts",
    tags,
    security,
    middleware: guard,
    summary: "Accounts whose balance and transactions disagree (reconciliation drift), longest first.",
    description: `An account enters this list when a sync finds its reported balance moved by more (or less)
than the posted transactions explain, beyond 0.01 of the currency, and leaves it when they agree again.
Nothing was changed to make them agree: look at the provider. Each change is audited
(\`account.reconciliation_drift\`, \`account.reconciled\`).`,
    request: { query: z.object({ limit: Limit(100, 50), cursor: Cursor }) },
    responses: {
      200: jsonContent(
        z.object({
          accounts: z.array(
            z.object({
              account_id: z.string(),
              user_id: z.string(),
              connection_id: z.string(),
              provider: z.string(),
              currency: z.string(),
              difference: z.string().openapi({ description: "Reported balance minus what the transactions explain." }),
              since: z.string().openapi({ format: "date-time" }),
              updated_at: z.string().openapi({ format: "date-time" }),
            }),
          ),
          next_cursor: z.string().nullable(),
        }),
        "A page of drifting accounts.",
      ),
      ...problems(401, 403, 422, 429),
    },
  }),
};

export const adminSyncRoutes = createRouter()
  .openapi(routes.drifts, async (c) => c.json(await driftingAccounts(depsOf(c), c.req.valid("query")), 200))
  .openapi(routes.list, async (c) => c.json(await deadLetters(depsOf(c), c.req.valid("query")), 200))
  .openapi(routes.replay, async (c) =>
    c.json(await replayDeadLetter(depsOf(c), metaOf(c), authOf(c).userId, c.req.valid("param").id), 202),
  );
