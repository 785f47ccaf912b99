import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../http/app-env";
import { VERSION } from "../version";

const DESCRIPTION = `Ledgerlink: one place to see your money.

Errors are RFC 9457 problem details (\`application/problem+json\`) with a stable \`code\` and the
\`request_id\`; validation failures list \`errors[]\`. Timestamps are RFC 3339 UTC with \`Z\`; money
is a decimal string. Authenticated calls send \`Authorization: Bearer <access_token>\`.`;

/**
 * The reference page: Scalar's standalone bundle, served from this Worker's static assets
 * (public/docs/NOTICE), configured by a data attribute, so no script is inline and no request
 * leaves the origin (fonts off: the system's are used).
 */
export const DOCS_SCRIPT = "/docs/scalar-api-reference-1.76.0.js";
const DOCS_CONFIG = JSON.stringify({ url: "/openapi.json", withDefaultFonts: false, hideClientButton: true });
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
      "Providers and your connections to them: OAuth 2 with PKCE, credentials encrypted at rest. Outside production a Schwab simulator is served at /sandbox.",
  },
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
