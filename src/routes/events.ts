import { createRoute } from "@hono/zod-openapi";
import { fail } from "../errors";
import { SOCKET_HEADERS } from "../home/sockets";
import { requireAuth } from "../http/auth";
import { depsOf } from "../http/deps";
import { createRouter, problemDoc, problems } from "../http/openapi";
import { authOf } from "../http/request";

const events = createRoute({
  operationId: "openEventStream",
  method: "get",
  path: "/",
  tags: ["Events"],
  security: [{ bearerAuth: [] }],
  summary: "Live events over a WebSocket.",
  description: `Upgrade to a WebSocket to receive JSON events \`{type, at, data}\` as they happen:
\`sync.started\`, \`sync.succeeded\`, \`sync.failed\`, \`connection.reauth_required\`, \`session.revoked\`.
Authenticate with \`Authorization: Bearer <token>\`, or, from a browser, offer the subprotocols
\`ledgerlink.events\` and \`bearer.<access token>\`. The socket closes with code 4001 when the token it
opened with stops counting, and the close reason says why: \`session revoked\` (after a
\`session.revoked\` event; a password change or reset revokes the other sessions this way),
\`tokens rotated\` (an administrator's or the global token rotation) or \`access token expired\`. Reconnect with a fresh access token. Send \`ping\` to receive \`pong\`.`,
  middleware: [requireAuth({ webSocket: true })] as const,
  responses: {
    101: { description: "Switching protocols: the event stream is open." },
    426: problemDoc(426),
    ...problems(401, 429),
  },
});

export const eventRoutes = createRouter().openapi(events, async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw fail("upgrade_required", "Connect with a WebSocket upgrade.");
  }
  const auth = authOf(c);
  const forwarded = new Request(c.req.raw);
  forwarded.headers.set(SOCKET_HEADERS.session, auth.sessionId);
  forwarded.headers.set(SOCKET_HEADERS.version, String(auth.tokenVersion));
  forwarded.headers.set(SOCKET_HEADERS.issuedAt, String(auth.issuedAt));
  forwarded.headers.set(SOCKET_HEADERS.expiresAt, String(auth.expiresAt));
  // The user's home holds the socket, so revocations and publications reach it directly.
  const opened = await depsOf(c).homes.openEvents(auth.userId, forwarded);
  // A copy the middleware may add headers to (the home's answer is immutable), with the headers
  // set before the handler (security, request id, Vary): Hono adds those only to answers it
  // builds itself, and its own would drop the socket.
  const answer = new Response(opened.body, opened);
  for (const [name, value] of c.res.headers) answer.headers.set(name, value);
  return answer as unknown as never;
});
