/**
 * A GoCardless Bank Account Data (v2) simulator (docs/providers/gocardless.md), so the real
 * GoCardless adapter runs end to end offline.
 *
 * Mounting: routes are relative. The Worker mounts it at `/sandbox/gocardless` and points the
 * adapter's `baseUrl` at `<APP_BASE_URL>/sandbox/gocardless/api/v2`. Surface:
 * `POST /api/v2/token/new/`, `POST /api/v2/token/refresh/`, `GET /api/v2/institutions/[?country]`,
 * `GET /api/v2/institutions/{id}/`, `POST|GET /api/v2/agreements/enduser/[{id}/]`,
 * `POST|GET|DELETE /api/v2/requisitions/[{id}/]`, `GET /api/v2/accounts/{id}/[details|balances|transactions/]`,
 * and the consent page `GET /psd2/start/{requisitionId}/{institution}`.
 *
 * Logins and scenarios: `POST /requisitions/` reads two extra body fields real GoCardless never
 * gets: `ledgerlink_scenario` (see GOCARDLESS_SCENARIOS; default `default`) and `ledgerlink_login`
 * (the seed; default `default`). The same login always gets the same accounts and IBAN.
 *
 * Statelessness: agreement, requisition and account ids and the app tokens are HMAC-signed and
 * carry what they need (institution, day counts, scope, scenario, login, creation time), so any
 * isolate serves them. Per isolate only: consent visits (single-use links; CR → LN), agreement
 * acceptance, used references, and the mint, burst and per-account counters. A requisition an
 * isolate never saw consented counts as linked at its creation after `linkTimeoutMs`.
 *
 * Time (`options.now`): the data timeline is anchored at the requisition's creation; one event a
 * day per account, pending for `postDelayMs` and then booked under a new id; the booked balance
 * is always opening + Σ booked (but in `drift`); access ends `access_valid_for_days` after the
 * consent.
 */
import { Hono } from "hono";
import { latency } from "../shared/util";
import { apiRoutes } from "./api";
import { consentRoutes } from "./consent";
import { type GoCardlessSimulatorOptions, gcError, resolveGoCardless } from "./context";

export {
  GOCARDLESS_SCENARIOS,
  type GoCardlessScenario,
  type GoCardlessSimulatorOptions,
  isGoCardlessScenario,
} from "./context";
export { INSTITUTIONS as GOCARDLESS_SIM_INSTITUTIONS } from "./institutions";

/** Builds the simulator as a Hono app with relative routes (mount it at `/sandbox/gocardless`). */
export function createGoCardlessSimulator(options: GoCardlessSimulatorOptions = {}): Hono {
  const ctx = resolveGoCardless(options);
  const app = new Hono();
  app.use("*", latency(ctx.latencyMs));
  app.route("/api/v2", apiRoutes(ctx));
  app.route("/psd2", consentRoutes(ctx));
  // A catch-all route rather than notFound(): a parent app's notFound would win once mounted.
  app.all("*", (c) => c.json(gcError(404, "Not found.", "Not found."), 404));
  app.onError((_err, c) =>
    c.json(gcError(500, "Internal Server Error", "An unknown error occurred.", "UnknownRequestError"), 500),
  );
  return app;
}
