import { createRoute, z } from "@hono/zod-openapi";
import { notFound } from "../errors";
import { requireAuth } from "../http/auth";
import { depsOf } from "../http/deps";
import { devOnly } from "../http/dev-only";
import { createRouter, jsonContent, problems } from "../http/openapi";
import { advanceSandboxClock, resetSandboxClock, sandboxNow, sandboxOffsetMs } from "../providers/sandbox-clock";
import { createSimpleFinSetupTokenIssuer, SIMPLEFIN_SCENARIOS } from "../providers/simulators/simplefin";
import { SandboxLogin } from "../wire/connections";

/** 404 in production, before authentication (there is no sandbox there). */

const Clock = z.object({
  now: z.string().openapi({ format: "date-time", description: "The sandbox's current time." }),
  offset_seconds: z.number().int(),
});

const view = () => ({ now: sandboxNow().toISOString(), offset_seconds: Math.round(sandboxOffsetMs() / 1000) });

const tags = ["Development"];
const security = [{ bearerAuth: [] }];

const get = createRoute({
  operationId: "devGetSandboxClock",
  method: "get",
  path: "/sandbox/clock",
  tags,
  security,
  middleware: [devOnly(), requireAuth()] as const,
  summary: "Development only (404 in production): the sandbox provider's clock.",
  responses: { 200: jsonContent(Clock, "The sandbox clock."), ...problems(401, 404, 429) },
});

const move = createRoute({
  operationId: "devMoveSandboxClock",
  method: "post",
  path: "/sandbox/clock",
  tags,
  security,
  middleware: [devOnly(), requireAuth()] as const,
  summary: "Development only (404 in production): move the sandbox provider's clock forward, or reset it.",
  description: `The sandbox is time-driven: a new transaction per account per day after the login, the
\`pending_to_posted\` trade posting a day after the login, access tokens expiring after 30 minutes,
refresh tokens 7 days after the login. Advance the clock (\`advance_seconds\`, up to 30 days per call)
and the next sync sees those changes. Per Worker isolate, in memory; \`reset: true\` returns to real
time. Syncs refresh the access token first, so tokens issued before a jump keep working.`,
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z
            .object({
              advance_seconds: z
                .number()
                .int()
                .min(1)
                .max(30 * 86_400)
                .optional(),
              reset: z.literal(true).optional(),
            })
            .strict()
            .refine(
              (b) => (b.advance_seconds === undefined) !== (b.reset === undefined),
              "send advance_seconds or reset",
            ),
        },
      },
    },
  },
  responses: { 200: jsonContent(Clock, "The sandbox clock now."), ...problems(400, 401, 404, 415, 422, 429) },
});

const setupToken = createRoute({
  operationId: "devSimpleFinSetupToken",
  method: "post",
  path: "/sandbox/simplefin/setup-token",
  tags,
  security,
  middleware: [devOnly(), requireAuth()] as const,
  summary: "Development only (404 in production): a fresh setup token for the simulated SimpleFIN Bridge.",
  description: `What a person copies from their bridge, for \`sandbox_simplefin\`: pass it as \`setup_token\` to
POST /api/v1/connections. Single use, like a real one (a second claim answers 409 \`setup_token_claimed\`).
\`scenario\` picks the simulated bridge's behaviour (GET /api/v1/providers lists them), \`login\` seeds
its data.`,
  request: {
    body: {
      required: false,
      content: {
        "application/json": {
          schema: z
            .object({
              scenario: z.enum(SIMPLEFIN_SCENARIOS).optional(),
              login: SandboxLogin.optional(),
            })
            .strict(),
        },
      },
    },
  },
  responses: {
    200: jsonContent(z.object({ setup_token: z.string() }), "A single-use setup token."),
    ...problems(400, 401, 404, 415, 422, 429),
  },
});

export const devSandboxRoutes = createRouter()
  .openapi(get, (c) => c.json(view(), 200))
  .openapi(move, (c) => {
    const body = c.req.valid("json");
    if (body.reset) resetSandboxClock();
    else advanceSandboxClock((body.advance_seconds ?? 0) * 1000);
    return c.json(view(), 200);
  })
  .openapi(setupToken, async (c) => {
    const body = c.req.valid("json") ?? {};
    const { config } = depsOf(c);
    const sandbox = config.providers.sandbox;
    if (!sandbox) throw notFound("route");
    const issuer = createSimpleFinSetupTokenIssuer({
      secret: sandbox.secret,
      baseUrl: `${config.appBaseUrl}/sandbox/simplefin`,
      now: sandboxNow,
    });
    return c.json({ setup_token: await issuer.issueSetupToken({ scenario: body.scenario, seed: body.login }) }, 200);
  });
