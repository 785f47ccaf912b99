/**
 * Which providers this code knows, which this deployment offers, and how each is linked: OAuth 2
 * (Schwab, Alpaca), a bank consent (GoCardless) or a setup token (SimpleFIN). Outside production
 * each also has a sandbox twin: the real adapter pointed at its in-process simulator.
 */
import type { Hono } from "hono";
import type { Config } from "../config";
import type { Logger } from "../logger";
import { type ProviderCallPoint, statusClass } from "../metrics";
import { type AlpacaAdapter, createAlpacaAdapter } from "./alpaca/adapter";
import { createGoCardlessAdapter, type GoCardlessAdapter } from "./gocardless/adapter";
import {
  type AppSecrets,
  type AppTokenSource,
  createGoCardlessHttp,
  type GoCardlessHttp,
  memoryAppTokens,
} from "./gocardless/app-token";
import type { ProviderHooks } from "./http";
import { SCENARIOS } from "./sandbox/scenarios";
import { sandboxNow } from "./sandbox-clock";
import { sandboxFetch, sandboxRootFor } from "./sandbox-host";
import { createSchwabAdapter } from "./schwab";
import { createSimpleFinAdapter, type SimpleFinAdapter } from "./simplefin/adapter";
import { ALPACA_SCENARIOS, alpacaSimulatorUrls } from "./simulators/alpaca";
import { GOCARDLESS_SCENARIOS } from "./simulators/gocardless";
import { SIMPLEFIN_SCENARIOS } from "./simulators/simplefin";
import type { AuthType, ProviderAdapter, SnapshotSource } from "./types";

/** Provider slugs this code knows; which are offered depends on the config. */
export const PROVIDER_SLUGS = [
  "schwab",
  "alpaca",
  "gocardless",
  "simplefin",
  "sandbox",
  "sandbox_alpaca",
  "sandbox_gocardless",
  "sandbox_simplefin",
] as const;
export type ProviderSlug = (typeof PROVIDER_SLUGS)[number];

/** What `GET /api/v1/providers` lists. */
export interface ProviderInfo {
  slug: ProviderSlug;
  name: string;
  authType: AuthType;
  /** ISO 3166 countries served (empty: not tied to countries). */
  countries: readonly string[];
  /** A connect names one of `GET /api/v1/institutions` (GoCardless). */
  needsInstitution: boolean;
  /** Its credentials are set here; an unconfigured provider answers `provider_not_configured`. */
  configured: boolean;
  /** Sandboxes only: the `scenario` values a connect may pick. */
  scenarios?: readonly string[];
}

/** How a provider is linked, and the adapter that does it. */
export type Link =
  | { kind: "oauth2"; adapter: ProviderAdapter | AlpacaAdapter; pkce: boolean; refreshes: boolean }
  | { kind: "bank_consent"; adapter: GoCardlessAdapter }
  | { kind: "setup_token"; adapter: SimpleFinAdapter };

/** An offered provider: how it is linked and where its data comes from. */
export interface OfferedProvider {
  info: ProviderInfo;
  link: Link;
  source: SnapshotSource;
  /** The provider's clock where it is not ours (the sandboxes' moveable clock): a sync reads up to its now. */
  clock?: () => Date;
}

/** The providers offered by this deployment. */
export interface ProviderRegistry {
  /** Every provider this deployment shows (sandboxes only outside production), configured or not. */
  list(): ProviderInfo[];
  /** null when the slug is unknown, not shown here, or not configured. */
  get(slug: string): OfferedProvider | null;
  /** The info of a provider shown here, configured or not (null when unknown). */
  info(slug: string): ProviderInfo | null;
  /**
   * "Now" for data the providers date: ours, or the sandboxes' clock where it runs ahead (a
   * developer moved it), so a default range ends on the day the synced balances are dated.
   */
  latest(now: Date): Date;
}

/** Test seams: wrap every adapter's fetch (to count or delay calls), set the adapters' clock. */
export interface RegistryOptions {
  logger?: Logger;
  now?: () => Date;
  wrapFetch?: (fetch: typeof globalThis.fetch) => typeof globalThis.fetch;
  /** The sandbox host app (default: the one the Worker mounts for this config). */
  sandboxRoot?: Hono;
  /** Before every provider call: the slug's outbound budget (the Limiter's bucket); refuses with a RateLimitedError. */
  throttle?: (slug: ProviderSlug) => Promise<void>;
  /** After every provider call: one metric point (src/metrics.ts). */
  onCall?: (call: ProviderCallPoint) => void;
  /**
   * Where GoCardless adapters keep the app's token pair (services/providers/app-tokens.ts keeps it
   * in D1); default: in this registry's memory.
   */
  appTokens?: AppTokenStore;
}

/** Makes the app-token source of one GoCardless slug from its HTTP client and secrets. */
export type AppTokenStore = (
  slug: "gocardless" | "sandbox_gocardless",
  gc: GoCardlessHttp,
  secrets: AppSecrets,
) => AppTokenSource;

const EU_UK = [
  "AT",
  "BE",
  "BG",
  "HR",
  "CY",
  "CZ",
  "DK",
  "EE",
  "FI",
  "FR",
  "DE",
  "GR",
  "HU",
  "IS",
  "IE",
  "IT",
  "LV",
  "LI",
  "LT",
  "LU",
  "MT",
  "NL",
  "NO",
  "PL",
  "PT",
  "RO",
  "SK",
  "SI",
  "ES",
  "SE",
  "GB",
];

/** Builds the registry for a config; cheap (no I/O), so build it per request or job. */
export function createProviderRegistry(config: Config, options: RegistryOptions = {}): ProviderRegistry {
  const wrap = options.wrapFetch ?? ((f) => f);
  const p = config.providers;
  const common = { timeouts: p.timeouts, logger: options.logger, now: options.now };
  /** Each slug's calls count against its own budget and metric label (a sandbox is not its twin). */
  const hooksFor = (slug: ProviderSlug): ProviderHooks => ({
    // A SimpleFIN claim goes to whatever host the person's token names, not necessarily the Bridge
    // the budget protects, and the connect limit already bounds it per user: it takes no token, so
    // claims to anyone's host cannot spend every user's SimpleFIN budget.
    beforeCall: options.throttle
      ? (operation) =>
          operation === "claim" ? Promise.resolve() : (options.throttle as (s: ProviderSlug) => Promise<void>)(slug)
      : undefined,
    afterCall: (call) =>
      options.onCall?.({
        provider: slug,
        operation: call.operation,
        statusClass: call.outcome === "throttled" ? "429" : statusClass(call.status),
        outcome: call.outcome,
        durationMs: call.durationMs,
        httpStatus: call.status,
      }),
  });
  // Bound: workerd refuses an unbound global fetch.
  const network = () => wrap((input, init) => fetch(input, init));
  const appTokens: AppTokenStore = options.appTokens ?? ((_slug, gc, secrets) => memoryAppTokens(gc, secrets));
  const shown = new Map<ProviderSlug, { info: ProviderInfo; build: (() => Omit<OfferedProvider, "info">) | null }>();
  const show = (info: Omit<ProviderInfo, "configured">, build: (() => Omit<OfferedProvider, "info">) | null) =>
    shown.set(info.slug, { info: { ...info, configured: build !== null }, build });

  const oauth = (adapter: ProviderAdapter | AlpacaAdapter, pkce: boolean, refreshes: boolean) => ({
    link: { kind: "oauth2" as const, adapter, pkce, refreshes },
    source: adapter,
  });
  const schwab = (
    slug: ProviderSlug,
    o: { clientId: string; clientSecret: string; baseUrl: string; fetch: typeof fetch; now?: () => Date },
  ) => oauth(createSchwabAdapter({ ...common, ...o, hooks: hooksFor(slug) }), true, true);
  const alpaca = (slug: ProviderSlug, o: Parameters<typeof createAlpacaAdapter>[0]) =>
    oauth(createAlpacaAdapter({ ...o, hooks: hooksFor(slug) }), false, false);
  const gocardless = (
    slug: "gocardless" | "sandbox_gocardless",
    o: { baseUrl: string; fetch: typeof fetch; secrets: AppSecrets; now?: () => Date },
  ) => {
    const gc = createGoCardlessHttp({ ...common, ...o, hooks: hooksFor(slug) });
    const adapter = createGoCardlessAdapter({
      ...common,
      ...o,
      hooks: hooksFor(slug),
      tokens: appTokens(slug, gc, o.secrets),
    });
    return { link: { kind: "bank_consent" as const, adapter }, source: adapter };
  };
  const simplefin = (slug: ProviderSlug, o: Parameters<typeof createSimpleFinAdapter>[0]) => {
    const adapter = createSimpleFinAdapter({ ...o, hooks: hooksFor(slug) });
    return { link: { kind: "setup_token" as const, adapter }, source: adapter };
  };

  const base = { countries: [] as readonly string[], needsInstitution: false };
  show(
    { ...base, slug: "schwab", name: "Charles Schwab", authType: "oauth2", countries: ["US"] },
    p.schwab ? () => schwab("schwab", { ...(p.schwab as NonNullable<typeof p.schwab>), fetch: network() }) : null,
  );
  show(
    { ...base, slug: "alpaca", name: "Alpaca", authType: "oauth2", countries: ["US"] },
    p.alpaca
      ? () => alpaca("alpaca", { ...(p.alpaca as NonNullable<typeof p.alpaca>), ...common, fetch: network() })
      : null,
  );
  show(
    {
      slug: "gocardless",
      name: "Banks in Europe and the UK (GoCardless)",
      authType: "bank_consent",
      countries: EU_UK,
      needsInstitution: true,
    },
    p.gocardless
      ? () =>
          gocardless("gocardless", {
            baseUrl: (p.gocardless as NonNullable<typeof p.gocardless>).baseUrl,
            fetch: network(),
            secrets: p.gocardless as NonNullable<typeof p.gocardless>,
          })
      : null,
  );
  show(
    {
      ...base,
      slug: "simplefin",
      name: "Banks in the US and Canada (SimpleFIN Bridge)",
      authType: "setup_token",
      countries: ["US", "CA"],
    },
    p.simplefin ? () => simplefin("simplefin", { ...common, fetch: network() }) : null,
  );

  const sandbox = p.sandbox;
  const root = options.sandboxRoot ?? sandboxRootFor(config);
  let sandboxClock: (() => Date) | null = null;
  if (sandbox && root) {
    // Browser-facing URLs (authorize, consent) use the public base URL so a developer can click
    // them; the server-side calls to the same base are dispatched in-process (docs/design.md).
    const at = (path: string) => `${config.appBaseUrl}/sandbox${path}`;
    const inProcess = (base: string) => wrap(sandboxFetch(root, base));
    // The sandboxes' adapters read the sandbox clock, so a balance's `as_of` moves with it.
    const now = options.now ?? sandboxNow;
    sandboxClock = now;
    const creds = { clientId: sandbox.clientId, clientSecret: sandbox.clientSecret, now };
    show(
      { ...base, slug: "sandbox", name: "Sandbox (simulated Schwab)", authType: "oauth2", scenarios: SCENARIOS },
      () => schwab("sandbox", { ...creds, baseUrl: at(""), fetch: inProcess(at("")) }),
    );
    show(
      {
        ...base,
        slug: "sandbox_alpaca",
        name: "Sandbox (simulated Alpaca)",
        authType: "oauth2",
        scenarios: ALPACA_SCENARIOS,
      },
      () =>
        alpaca("sandbox_alpaca", {
          ...common,
          ...creds,
          ...alpacaSimulatorUrls(at("/alpaca")),
          fetch: inProcess(at("/alpaca")),
        }),
    );
    show(
      {
        slug: "sandbox_gocardless",
        name: "Sandbox (simulated GoCardless banks)",
        authType: "bank_consent",
        countries: EU_UK,
        needsInstitution: true,
        scenarios: GOCARDLESS_SCENARIOS,
      },
      () =>
        gocardless("sandbox_gocardless", {
          baseUrl: at("/gocardless/api/v2"),
          fetch: inProcess(at("/gocardless")),
          secrets: { secretId: sandbox.clientId, secretKey: sandbox.clientSecret },
          now,
        }),
    );
    show(
      {
        ...base,
        slug: "sandbox_simplefin",
        name: "Sandbox (simulated SimpleFIN Bridge)",
        authType: "setup_token",
        countries: ["US", "CA"],
        scenarios: SIMPLEFIN_SCENARIOS,
      },
      () =>
        simplefin("sandbox_simplefin", {
          ...common,
          now,
          fetch: inProcess(at("/simplefin")),
          // The simulated bridge lives at this API's own (development) origin.
          // (Credentials in an access URL's userinfo are no part of where it points.)
          urlPolicy: (url) => `${url.protocol}//${url.host}${url.pathname}/`.startsWith(`${at("/simplefin")}/`),
        }),
    );
  }

  const built = new Map<ProviderSlug, OfferedProvider>();
  return {
    list: () => PROVIDER_SLUGS.flatMap((slug) => shown.get(slug)?.info ?? []),
    info: (slug) => shown.get(slug as ProviderSlug)?.info ?? null,
    latest(now) {
      const ahead = sandboxClock?.();
      return ahead && ahead > now ? ahead : now;
    },
    get(slug) {
      const entry = shown.get(slug as ProviderSlug);
      if (!entry?.build) return null;
      let offered = built.get(entry.info.slug);
      if (!offered) {
        offered = { info: entry.info, ...entry.build() };
        if (sandboxClock && isSandbox(entry.info.slug)) offered.clock = sandboxClock;
        built.set(entry.info.slug, offered);
      }
      return offered;
    },
  };
}

/** Whether a slug is one of the in-process sandboxes (they take `scenario` and `login`). */
export const isSandbox = (slug: string) => slug === "sandbox" || slug.startsWith("sandbox_");
