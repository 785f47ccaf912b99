/**
 * An Alpaca Trading API simulator with Alpaca Connect OAuth (docs/providers/alpaca.md), so the
 * real Alpaca adapter runs end to end offline.
 *
 * Mounting: routes are relative; the Worker mounts it at `/sandbox/alpaca`, and
 * `alpacaSimulatorUrls(<APP_BASE_URL>/sandbox/alpaca)` gives the adapter's four URLs. Surface:
 * `GET /app/oauth/authorize` (consents at once: 302 to `redirect_uri?code&state`),
 * `POST /api/oauth/token` (form-encoded only; anything else is 401 `invalid_client`), and
 * `GET /v2/account`, `/v2/positions[/{symbol}]`, `/v2/account/activities[/{type}]` under `/api`
 * (live) and `/paper-api` (paper).
 *
 * Logins: `?scenario=` (ALPACA_SCENARIOS), `?login=` (seed), `?env=paper|live|both` (default
 * paper) on the authorize URL. Codes and tokens are HMAC-signed (stateless); per isolate only the
 * used codes and the per-minute request counts. Every data answer carries `X-RateLimit-*`; over
 * `rateLimitPerMinute` (200) a 429.
 *
 * Time (`options.now`): `historyActivities` activities over the 360 days before the login, then
 * one per `newActivityIntervalMs`; cash is the opening cash plus every activity's cash effect
 * (but in `drift`); `revoked` tokens stop working `revokeAfterMs` after the login.
 */
import { Hono } from "hono";
import { latency } from "../shared/util";
import { type AlpacaSimulatorOptions, alpacaError, resolveAlpaca } from "./context";
import { authorizeRoutes, dataRoutes, tokenRoutes } from "./routes";

export { ALPACA_SCENARIOS, type AlpacaScenario, type AlpacaSimulatorOptions, isAlpacaScenario } from "./context";

/** The adapter's URLs for a simulator mounted at `baseUrl`. */
export function alpacaSimulatorUrls(baseUrl: string) {
  const b = baseUrl.replace(/\/+$/, "");
  return {
    authorizeUrl: `${b}/app/oauth/authorize`,
    tokenUrl: `${b}/api/oauth/token`,
    liveBaseUrl: `${b}/api`,
    paperBaseUrl: `${b}/paper-api`,
  };
}

/** Builds the simulator as a Hono app with relative routes (mount it at `/sandbox/alpaca`). */
export function createAlpacaSimulator(options: AlpacaSimulatorOptions = {}): Hono {
  const ctx = resolveAlpaca(options);
  const app = new Hono();
  app.use("*", latency(ctx.latencyMs));
  app.route("/app/oauth", authorizeRoutes(ctx));
  app.route("/api", tokenRoutes(ctx));
  app.route("/api/v2", dataRoutes(ctx, "live"));
  app.route("/paper-api/v2", dataRoutes(ctx, "paper"));
  // A catch-all rather than notFound(): a parent app's notFound would win once mounted.
  app.all("*", (c) => c.json(alpacaError(40410000, "endpoint not found"), 404));
  app.onError((_err, c) => c.json(alpacaError(50010000, "internal server error"), 500));
  return app;
}
