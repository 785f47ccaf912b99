import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin, requireAuth } from "../http/auth";
import { depsOf } from "../http/deps";
import { createRouter, jsonContent, problems } from "../http/openapi";
import { authOf, metaOf } from "../http/request";
import { emailDeadLetters, replayEmailDeadLetter } from "../services/email/dead-letters";
import { Cursor, IdParam } from "../wire/data";
import { EmailDeadLetter, EmailQueued } from "../wire/email";
import { Limit } from "../wire/identity";

const tags = ["Administration"];
const security = [{ bearerAuth: [] }];
const guard = [requireAuth(), requireAdmin()];

const routes = {
  list: createRoute({
    operationId: "adminListEmailDeadLetters",
    method: "get",
    path: "/dead-letters",
    tags,
    security,
    middleware: guard,
    summary: "Emails that were never delivered (the email dead-letter queue's record), newest first.",
    description: `An email lands here when the provider refused it for good, or after EMAIL_MAX_ATTEMPTS
deliveries failed in passing. No address and no link: the recipient as SHA-256 only. \`state\`: \`open\`
(default, not yet replayed), \`replayed\`, or \`all\`.`,
    request: {
      query: z.object({
        state: z.enum(["open", "replayed", "all"]).default("open"),
        limit: Limit(100, 50),
        cursor: Cursor,
      }),
    },
    responses: {
      200: jsonContent(
        z.object({ dead_letters: z.array(EmailDeadLetter), next_cursor: z.string().nullable() }),
        "A page of email dead letters.",
      ),
      ...problems(401, 403, 422, 429),
    },
  }),
  replay: createRoute({
    operationId: "adminReplayEmailDeadLetter",
    method: "post",
    path: "/dead-letters/{id}/replay",
    tags,
    security,
    middleware: guard,
    summary: "Send a dead-lettered email again, as a new email (once).",
    description: `Queues the same message as a new email (new id and idempotency key, fresh attempts); the
hourly quota does not count it again. Audited as \`email.replayed\`. 409 \`already_replayed\` (with
\`replay_email_id\`); 409 \`dead_letter_expired\` once its sealed message is purged (7 days) or no longer
opens (its key was retired).`,
    request: { params: z.object({ id: IdParam("dead letter", "edl_4hV9kR2mQpX1bN7cT4wZyA") }) },
    responses: {
      202: jsonContent(EmailQueued.extend({ dead_letter: EmailDeadLetter }), "Queued."),
      ...problems(401, 403, 404, 409, 422, 429),
    },
  }),
};

export const adminEmailRoutes = createRouter()
  .openapi(routes.list, async (c) => c.json(await emailDeadLetters(depsOf(c), c.req.valid("query")), 200))
  .openapi(routes.replay, async (c) =>
    c.json(await replayEmailDeadLetter(depsOf(c), metaOf(c), authOf(c).userId, c.req.valid("param").id), 202),
  );
