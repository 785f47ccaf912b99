/**
 * Which providers this deployment offers, and their adapters. `schwab` needs client credentials;
 * `sandbox` is the real Schwab adapter pointed at the simulator, outside production only.
 */
import type { Hono } from "hono";
import type { Config } from "../config";
import type { Logger } from "../logger";
import { SCENARIOS } from "./sandbox/scenarios";
import { sandboxFetch, sandboxRootFor } from "./sandbox-host";
import { createSchwabAdapter } from "./schwab";
import type { ProviderAdapter } from "./types";

/** Provider slugs this code knows; which are offered depends on the config. */
export const PROVIDER_SLUGS = ["schwab", "sandbox"] as const;
export type ProviderSlug = (typeof PROVIDER_SLUGS)[number];

/** What `GET /api/v1/providers` lists. */
export interface ProviderInfo {
  slug: ProviderSlug;
  name: string;
  authType: "oauth2";
  /** Sandbox only: the `scenario` values a connect request may pick. */
  scenarios?: readonly string[];
}

/** An offered provider and the adapter that speaks to it. */
export interface OfferedProvider {
  info: ProviderInfo;
  adapter: ProviderAdapter;
}

/** The providers offered by this deployment. */
export interface ProviderRegistry {
  list(): ProviderInfo[];
  /** null when the slug is unknown or not offered here. */
  get(slug: string): OfferedProvider | null;
}

/** Test seams: wrap every adapter's fetch (to count or delay calls), set the adapters' clock. */
export interface RegistryOptions {
  logger?: Logger;
  now?: () => Date;
  wrapFetch?: (fetch: typeof globalThis.fetch) => typeof globalThis.fetch;
  /** The sandbox host app (default: the one the Worker mounts for this config). */
  sandboxRoot?: Hono;
}

/** Builds the registry for a config; cheap (no I/O), so build it per request or job. */
export function createProviderRegistry(config: Config, options: RegistryOptions = {}): ProviderRegistry {
  const wrap = options.wrapFetch ?? ((f) => f);
  const common = { timeouts: config.providers.timeouts, logger: options.logger, now: options.now };
  const offered = new Map<ProviderSlug, OfferedProvider>();

  const schwab = config.providers.schwab;
  if (schwab) {
    offered.set("schwab", {
      info: { slug: "schwab", name: "Charles Schwab", authType: "oauth2" },
      adapter: createSchwabAdapter({
        ...schwab,
        ...common,
        // Bound: workerd refuses an unbound global fetch.
        fetch: wrap((input, init) => fetch(input, init)),
      }),
    });
  }

  const sandbox = config.providers.sandbox;
  const root = options.sandboxRoot ?? sandboxRootFor(config);
  if (sandbox && root) {
    // Browser-facing URLs (authorize) use the public base URL so a developer can click them; the
    // server-side calls to the same base are dispatched in-process (docs/design.md "Conventions").
    const baseUrl = `${config.appBaseUrl}/sandbox`;
    offered.set("sandbox", {
      info: { slug: "sandbox", name: "Sandbox (simulated Schwab)", authType: "oauth2", scenarios: SCENARIOS },
      adapter: createSchwabAdapter({
        clientId: sandbox.clientId,
        clientSecret: sandbox.clientSecret,
        baseUrl,
        ...common,
        fetch: wrap(sandboxFetch(root, baseUrl)),
      }),
    });
  }

  return {
    list: () => PROVIDER_SLUGS.flatMap((slug) => offered.get(slug)?.info ?? []),
    get: (slug) => offered.get(slug as ProviderSlug) ?? null,
  };
}
