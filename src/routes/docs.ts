import type { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import type { AppEnv } from "../http/app-env";
import { VERSION } from "../version";

const DESCRIPTION = `Ledgerlink: one place to see your money.

Errors are RFC 9457 problem details (\`application/problem+json\`) with a stable \`code\` and the
\`request_id\`; validation failures list \`errors[]\`. Timestamps are RFC 3339 UTC with \`Z\`; money
is a decimal string. Authenticated calls send \`Authorization: Bearer <access_token>\`.`;

/** Serves the OpenAPI 3.1 document generated from the route schemas, and the reference page. */
export function mountDocs(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  app.doc31("/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: { title: "Ledgerlink API", version: VERSION, description: DESCRIPTION, license: { name: "Proprietary" } },
    servers: [{ url: new URL(c.req.url).origin }],
    tags: [
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
    ],
  }));
  app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Ledgerlink API reference" }));
}
