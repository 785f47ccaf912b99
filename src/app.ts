import { methodNotAllowed } from "hono/method-not-allowed";
import { requestId } from "hono/request-id";
import { accessLog } from "./http/access-log";
import { bodyLimit, jsonBody } from "./http/body";
import { configGate } from "./http/config-gate";
import { cors } from "./http/cors";
import { onError, onMethodNotAllowed, onNotFound } from "./http/error-boundary";
import { createRouter } from "./http/openapi";
import { requestContext } from "./http/request-context";
import { securityHeaders } from "./http/security-headers";
import { accountRoutes } from "./routes/accounts";
import { adminRoutes } from "./routes/admin";
import { adminEmailRoutes } from "./routes/admin-email";
import { adminHealthRoutes } from "./routes/admin-health";
import { adminSyncRoutes } from "./routes/admin-sync";
import { authRoutes } from "./routes/auth";
import { connectionRoutes } from "./routes/connections";
import { devRoutes } from "./routes/dev";
import { devConnectionRoutes } from "./routes/dev-connections";
import { devPageRoutes } from "./routes/dev-pages";
import { devSandboxRoutes } from "./routes/dev-sandbox";
import { mountDocs } from "./routes/docs";
import { eventRoutes } from "./routes/events";
import { healthRoutes } from "./routes/health";
import { institutionRoutes } from "./routes/institutions";
import { netWorthRoutes } from "./routes/net-worth";
import { providerRoutes } from "./routes/providers";
import { sandboxRoutes } from "./routes/sandbox";
import { sessionRoutes } from "./routes/sessions";
import { syncRoutes } from "./routes/syncs";
import { transactionRoutes } from "./routes/transactions";
import { wellKnownRoutes } from "./routes/well-known";

/** Builds the Hono app: middleware order and route mounting, nothing else. */
export function createApp() {
  const app = createRouter();

  // docs/contract.md "Conventions": a sane client X-Request-Id (<= 128 chars of [A-Za-z0-9_=-]) is reused.
  app.use(requestId({ limitLength: 128, headerName: "X-Request-Id" }));
  app.use(requestContext());
  app.use(accessLog());
  app.use(securityHeaders());
  app.use(methodNotAllowed({ app, onMethodNotAllowed }));
  app.use(bodyLimit());

  // Liveness must answer even when the configuration is broken.
  app.route("/health", healthRoutes);

  app.use(configGate());
  app.use(cors());
  app.use("/api/*", jsonBody());

  app.route("/.well-known", wellKnownRoutes);
  app.route("/api/v1/auth/sessions", sessionRoutes);
  app.route("/api/v1/auth", authRoutes);
  app.route("/api/v1/admin/sync", adminSyncRoutes);
  app.route("/api/v1/admin/email", adminEmailRoutes);
  app.route("/api/v1/admin/health", adminHealthRoutes);
  app.route("/api/v1/admin", adminRoutes);
  app.route("/api/v1/events", eventRoutes);
  app.route("/api/v1/providers", providerRoutes);
  app.route("/api/v1/institutions", institutionRoutes);
  app.route("/api/v1/net-worth", netWorthRoutes);
  app.route("/api/v1/connections", connectionRoutes);
  app.route("/api/v1/connections", syncRoutes);
  app.route("/api/v1/accounts", accountRoutes);
  app.route("/api/v1/transactions", transactionRoutes);
  app.route("/api/v1/dev", devRoutes);
  app.route("/api/v1/dev", devConnectionRoutes);
  app.route("/api/v1/dev", devSandboxRoutes);
  // The Schwab simulator; 404 in production (docs/contract.md "The sandbox provider").
  app.route("/sandbox", sandboxRoutes);
  // Pages for emailed links, development only (production's are the integrator's app).
  app.route("/", devPageRoutes);
  mountDocs(app);

  app.notFound(onNotFound);
  app.onError(onError);
  return app;
}
