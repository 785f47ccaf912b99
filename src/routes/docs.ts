import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../http/app-env";
import { VERSION } from "../version";

/** Scalar's anchor for an operation (`#tag/<tag>/<METHOD><path>`), for links in the description. */
const op = (tag: string, method: string, path: string) => `#tag/${tag}/${method}${path}`;

const DESCRIPTION = `Ledgerlink: one place to see your money.

Errors are RFC 9457 problem details (\`application/problem+json\`) with a stable \`code\` and the
\`request_id\`; validation failures list \`errors[]\`. Timestamps are RFC 3339 UTC with \`Z\`; money
is a decimal string. Authenticated calls send \`Authorization: Bearer <access_token>\`.

## Getting started

The whole journey of an app, in order:

1. **Register**: [POST /api/v1/auth/register](${op("identity", "POST", "/api/v1/auth/register")}) with
   \`{email, password, name}\` (202, whatever the address).
2. **Verify** the address: the emailed link carries a \`token\` for
   [POST /api/v1/auth/verify-email](${op("identity", "POST", "/api/v1/auth/verify-email")}). In development
   the email is in \`GET /api/v1/dev/outbox?to=EMAIL\`.
3. **Log in**: [POST /api/v1/auth/login](${op("identity", "POST", "/api/v1/auth/login")}) answers an
   \`access_token\` (15 minutes) and a \`refresh_token\` for
   [POST /api/v1/auth/refresh](${op("identity", "POST", "/api/v1/auth/refresh")}).
4. **Pick a provider**: [GET /api/v1/providers](${op("connections", "GET", "/api/v1/providers")}) says how
   each links (\`auth_type\`) and whether this deployment can (\`configured\`). Outside production the
   simulated \`sandbox\` (Schwab), \`sandbox_alpaca\`, \`sandbox_gocardless\` and \`sandbox_simplefin\` are
   listed too.
5. **Connect** with [POST /api/v1/connections](${op("connections", "POST", "/api/v1/connections")}), in the
   provider's kind of link:
   - \`oauth2\` (Schwab, Alpaca): \`{provider}\`; send the person's browser to \`authorization_url\`. The
     callback hands \`{state, code}\` back to your app, which completes the connection with
     [POST /api/v1/connections/callback](${op("connections", "POST", "/api/v1/connections/callback")})
     under the same user's token.
   - \`bank_consent\` (GoCardless): find the bank in
     [GET /api/v1/institutions](${op("connections", "GET", "/api/v1/institutions")}) and send
     \`{provider, institution_id}\`; then as for \`oauth2\` (the hand-off's \`code\` is \`consent\`).
   - \`setup_token\` (SimpleFIN): send \`{provider, setup_token}\` with the token the person copied from
     their bridge; the connection is \`active\` at once. In development
     \`POST /api/v1/dev/sandbox/simplefin/setup-token\` makes one for \`sandbox_simplefin\`.
6. **Sync**: a new connection syncs within 5 minutes;
   [POST /api/v1/connections/{id}/sync](${op("sync", "POST", "/api/v1/connections/{id}/sync")}) asks now (at
   most every 5 minutes; for a bank provider also within its daily quota, else 429
   \`provider_quota_exhausted\` says when), and [GET /api/v1/connections/{id}/syncs](${op("sync", "GET", "/api/v1/connections/{id}/syncs")})
   lists the runs.
7. **Read** [GET /api/v1/accounts](${op("data", "GET", "/api/v1/accounts")}) (each with its \`type\`,
   \`classification\` and \`currency\`), an account's
   [holdings](${op("data", "GET", "/api/v1/accounts/{id}/holdings")}) and
   [transactions](${op("data", "GET", "/api/v1/accounts/{id}/transactions")}), and keep a copy in step
   with the change feed, [GET /api/v1/transactions/sync](${op("data", "GET", "/api/v1/transactions/sync")}):
   apply \`added\`, \`modified\` and \`removed\`, and keep \`next_cursor\` for the next call.

[GET /api/v1/events](${op("events", "GET", "/api/v1/events")}) pushes sync results and consent warnings
over a WebSocket as they happen.`;

/**
 * The reference page: Scalar's standalone bundle, served from this Worker's static assets
 * (public/docs/NOTICE), configured by a data attribute, so no script is inline and no request
 * leaves the origin (fonts off: the system's are used).
 */
export const DOCS_SCRIPT = "/docs/scalar-api-reference-1.76.0.js";
/**
 * A self-hosted reference offers nothing that leads to an outside service. The options are those
 * of @scalar/api-reference 1.76.0 (the configuration schema inside the bundle above):
 * `hideClientButton` drops "Open API Client" (Scalar's hosted client); `showDeveloperTools:
 * "never"` drops the developer toolbar (Configure, Share, Deploy, Generate SDK) and the "Generate
 * SDKs & MCP" button, which it otherwise shows on localhost; `agent.disabled` drops "Ask AI"
 * (Scalar's agent, on by default on localhost); `mcp.disabled` drops "Generate MCP". No option
 * hides the sidebar's "Powered by Scalar" link, so `customCss` does. "Test Request" stays: it calls
 * this API (the document's server is its own origin).
 */
const DOCS_CONFIG = JSON.stringify({
  url: "/openapi.json",
  withDefaultFonts: false,
  hideClientButton: true,
  showDeveloperTools: "never",
  agent: { disabled: true },
  mcp: { disabled: true },
  customCss: ".darklight-reference a[target=_blank]{display:none}",
});
const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Ledgerlink API reference</title>
</head>
<body>
<div id="api-reference" data-configuration='${DOCS_CONFIG}'></div>
<script src="${DOCS_SCRIPT}"></script>
</body>
</html>`;

const TAGS = [
  { name: "System", description: "Health, readiness, documentation and keys." },
  { name: "Identity", description: "Accounts, email verification, login, tokens and password flows." },
  { name: "Sessions", description: "Your devices: list and revoke sessions." },
  { name: "Administration", description: "Admins only: users, locks, rotations and the audit trail." },
  {
    name: "Connections",
    description:
      "Providers, banks and your connections to them, each in its provider's kind of link (OAuth 2, a bank consent, a setup token); credentials encrypted at rest. Outside production simulators of Schwab, Alpaca, GoCardless and SimpleFIN are served at /sandbox.",
  },
  { name: "Sync", description: "Sync runs: ask for one now, and see how each went." },
  { name: "Data", description: "Your accounts, holdings and transactions, and the change feed." },
  { name: "Events", description: "Live updates over a WebSocket." },
  { name: "Development", description: "Available only outside production." },
];

/** Paths that exist only outside production (src/http/dev-only.ts). */
const isDevelopmentPath = (path: string) => path.startsWith("/api/v1/dev/") || path.startsWith("/sandbox");

/** Serves the OpenAPI 3.1 document generated from the route schemas, and the reference page. */
export function mountDocs(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  const document = (origin: string) =>
    app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: { title: "Ledgerlink API", version: VERSION, description: DESCRIPTION, license: { name: "Proprietary" } },
      servers: [{ url: origin }],
      tags: TAGS,
    });
  app.get("/openapi.json", (c) => {
    const doc = document(new URL(c.req.url).origin);
    // Development operations answer 404 in production, so its document does not list them.
    if (c.get("config").environment === "production") {
      doc.paths = Object.fromEntries(Object.entries(doc.paths ?? {}).filter(([path]) => !isDevelopmentPath(path)));
      doc.tags = doc.tags?.filter((t) => t.name !== "Development");
    }
    return c.json(doc);
  });
  app.get("/docs", (c) => c.html(DOCS_PAGE));
}
