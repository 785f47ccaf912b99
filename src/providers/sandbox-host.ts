/**
 * Hosting the sandbox inside the Worker: one simulator per config (so the `/sandbox` route and
 * the adapter's in-process calls share its per-isolate memory), and the `fetch` that dispatches
 * the adapter's calls to it without a network hop.
 */
import { Hono } from "hono";
import type { Config } from "../config";
import { createSandboxApp } from "./sandbox";
import { sandboxNow } from "./sandbox-clock";

const roots = new WeakMap<Config, Hono | null>();

/** The Hono app serving the simulator under `/sandbox`, or null where it is off (production). */
export function sandboxRootFor(config: Config): Hono | null {
  let root = roots.get(config);
  if (root === undefined) {
    const settings = config.providers.sandbox;
    root = settings
      ? new Hono().route(
          "/sandbox",
          createSandboxApp({
            secret: settings.secret,
            clientId: settings.clientId,
            clientSecret: settings.clientSecret,
            // Real time plus the development offset (POST /api/v1/dev/sandbox/clock).
            now: sandboxNow,
          }),
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
