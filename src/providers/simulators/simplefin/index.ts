/**
 * A SimpleFIN Bridge simulator (docs/providers/simplefin.md), so the real SimpleFIN adapter runs
 * end to end offline.
 *
 * Mounting: routes are relative; the Worker mounts it at `/sandbox/simplefin`. Surface:
 * `POST /claim/{code}` (a setup token's claim URL; `…/claim/demo` can be claimed repeatedly),
 * `GET /info`, `GET /create` (the user-facing page), and `GET /accounts` under the access URL
 * `https://<user>:<pass>@<host>/sandbox/simplefin` with HTTP Basic auth.
 *
 * Setup tokens come from `createSimpleFinSetupTokenIssuer({secret, baseUrl})` (a dev route
 * returns a fresh one): the token is base64 of `<baseUrl>/claim/<code>`, where the code is signed
 * and carries the scenario (SIMPLEFIN_SCENARIOS) and the login seed. Access URLs are signed the
 * same way, so a restarted dev server still serves them; per isolate only: used claim codes,
 * request counts per day (the quota) and access URLs the quota disabled.
 *
 * `GET /accounts`: v1 (`errors[]`, `org`) without `version`, v2 (`errlist[]`, `connections[]`,
 * `conn_id`) with `version=2`; `start-date` / `end-date` in epoch seconds, end exclusive, windows
 * over 90 days capped to the latest 90 days with the `gen.api` warning; `pending` included when
 * the parameter is present at all (any value); `account=` (repeatable); `balances-only=1`.
 *
 * Time (`options.now`): one event a day per account, pending for `postDelayMs` and then posted
 * under a new id; the balance is the opening balance + Σ posted (but in `drift`).
 */
import { Hono } from "hono";
import { randomId } from "../../sandbox/tokens";
import { latency } from "../shared/util";
import {
  type ClaimClaims,
  isSimpleFinScenario,
  resolveSimpleFin,
  type SimpleFinSimulatorOptions,
  simpleFinSigner,
} from "./context";
import { simpleFinRoutes } from "./routes";

export {
  isSimpleFinScenario,
  SIMPLEFIN_SCENARIOS,
  type SimpleFinScenario,
  type SimpleFinSimulatorOptions,
} from "./context";

/** Builds the simulator as a Hono app with relative routes (mount it at `/sandbox/simplefin`). */
export function createSimpleFinSimulator(options: SimpleFinSimulatorOptions = {}): Hono {
  const ctx = resolveSimpleFin(options);
  const app = new Hono();
  app.use("*", latency(ctx.latencyMs));
  app.route("/", simpleFinRoutes(ctx));
  // A catch-all rather than notFound(): a parent app's notFound would win once mounted.
  app.all("*", (c) => c.text("Not Found", 404));
  app.onError((_err, c) => c.text("Internal Server Error", 500));
  return app;
}

const base64 = (text: string) => {
  let bin = "";
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin);
};

/** The demo setup token: `<baseUrl>/claim/demo`, claimable any number of times. */
export function simpleFinDemoSetupToken(baseUrl: string): string {
  return base64(`${baseUrl.replace(/\/+$/, "")}/claim/demo`);
}

/** Issues setup tokens for a simulator mounted at `baseUrl` (its public URL) with the same `secret`. */
export function createSimpleFinSetupTokenIssuer(options: { secret?: string; baseUrl: string; now?: () => Date }) {
  const signer = simpleFinSigner(options.secret);
  const now = options.now ?? (() => new Date());
  const root = options.baseUrl.replace(/\/+$/, "");
  return {
    /** A fresh single-use setup token (base64 of its claim URL). */
    async issueSetupToken(input: { scenario?: string; seed?: string } = {}): Promise<string> {
      const scenario = input.scenario ?? "default";
      if (!isSimpleFinScenario(scenario)) throw new RangeError("unknown SimpleFIN simulator scenario");
      const seed = input.seed ?? "default";
      if (!/^[A-Za-z0-9._@+-]{1,64}$/.test(seed))
        throw new RangeError("seed must be 1-64 characters of [A-Za-z0-9._@+-]");
      const code = await signer.id("sf-claim", {
        x: scenario,
        l: seed,
        c: now().getTime(),
        n: randomId(),
      } satisfies ClaimClaims);
      return base64(`${root}/claim/${code}`);
    },
  };
}
