/**
 * The sandbox provider: a Schwab Trader API simulator (docs/contract.md "The sandbox provider",
 * docs/providers/schwab.md), so the real Schwab adapter runs end to end without Schwab.
 *
 * Mounting: routes are relative. The Worker mounts it at `/sandbox`
 * (`app.route("/sandbox", createSandboxApp({ secret }))`) and points the Schwab adapter's
 * `baseUrl` at `<origin>/sandbox`. Never mount it in production.
 *
 * Surface: `GET /v1/oauth/authorize`, `POST /v1/oauth/token`,
 * `GET /trader/v1/accounts/accountNumbers`, `GET /trader/v1/accounts[?fields=positions]`,
 * `GET /trader/v1/accounts/{hash}`, `GET /trader/v1/accounts/{hash}/transactions`.
 *
 * Logins: `authorize` consents at once. Two extra query parameters pick the login:
 * `scenario` (see ./scenarios.ts; default `default`) and `login` (seed text; default `default`).
 * The same login always gets the same accounts, positions and transaction history.
 *
 * Statelessness: codes and tokens are HMAC-signed and carry the scenario, login, first-login
 * time and PKCE challenge, so any isolate verifies them without storage. Two things are
 * remembered per isolate only (bounded maps): used codes (single use cannot be enforced across
 * isolates statelessly; a replay is refused within one) and, for `flaky`, each access token's
 * call count (so "the first N calls per token fail" holds per isolate).
 *
 * Time, and how tests make things happen: everything time-dependent reads `options.now`.
 * - New transactions: one per account every `newTransactionIntervalMs` (default 1 day) after the
 *   login; move the clock forward and the next sync sees them.
 * - Pending → posted (`pending_to_posted`): a PENDING trade exists from the start; once
 *   `now >= loginAt + pendingPostDelayMs` (default 1 day) it is gone and a VALID trade with a new
 *   activityId, same amount, symbol and date takes its place.
 * - Expiry: access tokens expire after `accessTokenTtlSeconds` (1800), refresh tokens 7 days after
 *   the first login, codes after `codeTtlSeconds`.
 * - `slow` waits `slowDelayMs` (default 30 s) unless the client aborts; `flaky` fails the first
 *   `flakyFailures` (default 2) trader calls per access token; `rate_limited` sends
 *   `Retry-After: retryAfterSeconds` (default 2).
 */
import { Hono } from "hono";
import { resolveSandbox, type SandboxOptions } from "./context";
import { oauthRoutes } from "./oauth";
import { traderRoutes } from "./trader";

export type { SandboxOptions } from "./context";
export { isScenario, SCENARIOS, type Scenario } from "./scenarios";

/** Builds the sandbox as a Hono app with relative routes (mount it at `/sandbox`). */
export function createSandboxApp(options: SandboxOptions = {}): Hono {
  const ctx = resolveSandbox(options);
  const app = new Hono();
  app.route("/v1/oauth", oauthRoutes(ctx));
  app.route("/trader/v1", traderRoutes(ctx));
  app.notFound((c) => c.json({ message: "Not Found" }, 404));
  app.onError((_err, c) => c.json({ message: "Internal Server Error", errors: ["sandbox error"] }, 500));
  return app;
}
