/**
 * Hosting the sandbox inside the Worker: one simulator per config (so the `/sandbox` route and
 * the adapter's in-process calls share its per-isolate memory), and the `fetch` that dispatches
 * the adapter's calls to it without a network hop.
 */
import { Hono } from "hono";
import type { Config } from "../config";
import { createSandboxApp } from "./sandbox";
import { sandboxNow } from "./sandbox-clock";
import { createAlpacaSimulator } from "./simulators/alpaca";
import { createGoCardlessSimulator } from "./simulators/gocardless";
import { createSimpleFinSimulator } from "./simulators/simplefin";

const roots = new WeakMap<Config, Hono | null>();

/**
 * The Hono app serving the simulators under `/sandbox` (Schwab), `/sandbox/alpaca`,
 * `/sandbox/gocardless` and `/sandbox/simplefin`, or null where they are off (production).
 */
export function sandboxRootFor(config: Config): Hono | null {
  let root = roots.get(config);
  if (root === undefined) {
    const settings = config.providers.sandbox;
    // Real time plus the development offset (POST /api/v1/dev/sandbox/clock) for all of them.
    const shared = settings ? { secret: settings.secret, now: sandboxNow } : null;
    root =
      settings && shared
        ? new Hono()
            // The more specific mounts first: the Schwab simulator would answer any path.
            .route(
              "/sandbox/alpaca",
              createAlpacaSimulator({ ...shared, clientId: settings.clientId, clientSecret: settings.clientSecret }),
            )
            .route(
              "/sandbox/gocardless",
              createGoCardlessSimulator({ ...shared, secretId: settings.clientId, secretKey: settings.clientSecret }),
            )
            .route("/sandbox/simplefin", createSimpleFinSimulator(shared))
            .route(
              "/sandbox",
              createSandboxApp({ ...shared, clientId: settings.clientId, clientSecret: settings.clientSecret }),
            )
        : null;
    roots.set(config, root);
  }
  return root;
}

/**
 * A `fetch` that serves URLs under `baseUrl` from `root` in-process, as real Request/Response
 * objects (so timeouts, abort signals, headers and bodies behave as over HTTP). Any other URL is
 * refused: the sandbox adapter must never reach the network.
 */
export function sandboxFetch(root: Hono, baseUrl: string): typeof fetch {
  const prefix = `${baseUrl.replace(/\/+$/, "")}/`;
  return async (input, init) => {
    const request = new Request(input, init);
    if (!request.url.startsWith(prefix)) {
      throw new TypeError("the sandbox adapter only calls the in-process sandbox");
    }
    return root.fetch(request);
  };
}
