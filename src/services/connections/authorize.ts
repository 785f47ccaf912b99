/**
 * Starting a link, in the provider's kind (src/providers/registry.ts): an OAuth 2
 * authorization-code flow (RFC 6749 §4.1, with PKCE RFC 7636 where the provider has it), a bank
 * consent (a GoCardless requisition) or a setup token claimed at once (SimpleFIN). For a new
 * connection (`connect`) or new credentials for an existing one (`reauthorize`).
 */
import { base64url, newId, randomToken, sha256Hex } from "../../crypto/random";
import { countUserConnections, findUserConnection, insertConnection, updateUserConnection } from "../../db/connections";
import { expireConnectionStates, insertOAuthState } from "../../db/oauth-states";
import { fail, invalidField, invalidFields, notFound } from "../../errors";
import { isSandbox, type OfferedProvider } from "../../providers/registry";
import { ProviderError } from "../../providers/types";
import type { RequestMeta } from "../context";
import { knownInstitution } from "../institutions/catalogue";
import { connectionAudit } from "./audit";
import { freshCredentialsPatch, sealCredentials, verifierField } from "./credentials";
import type { ConnectionDeps } from "./deps";
import { failureDetails, providerApiError, providerNotAvailable, providerNotConfigured } from "./errors";
import { isAllowedReturnTo } from "./return-to";
import { requisitionsOf, withdrawRequisitions } from "./revoke";
import { claimSetupToken } from "./setup-token";
import { type ConnectionView, connectionView } from "./view";

/** RFC 6749 §10.12: the state must be short-lived; 10 minutes (docs/contract.md "Errors"). */
export const STATE_TTL_SECONDS = 600;
/** A generous cap on connections per user (pending ones included), against runaway clients. */
export const MAX_CONNECTIONS_PER_USER = 25;
/**
 * The path the provider sends the browser back to (register `<APP_BASE_URL><this>` at Schwab).
 * GET there only hands the answer back to the app; POST there (authenticated) completes.
 */
export const CALLBACK_PATH = "/api/v1/connections/callback";

/**
 * Where the GET callback hands the provider's answer back to the app that started the flow
 * (it never completes anything itself): an allow-listed URL to redirect to, or the web app's
 * own origin to `postMessage` to (only an origin the API already trusts, CORS_ALLOWED_ORIGINS).
 */
export interface HandOff {
  returnTo?: string | undefined;
  openerOrigin?: string | undefined;
}

/** Sandbox-only choices of the simulated login. */
export interface SandboxChoice {
  scenario?: string;
  login?: string;
}

/** What the client needs to send the user to the provider. */
export interface AuthorizationStart {
  authorization_url: string;
  state: string;
  expires_in: number;
}

/** 422 unless `return_to` is on the allow-list; an opener origin not trusted by CORS is ignored. */
function checkHandOff(deps: ConnectionDeps, handOff: HandOff): HandOff {
  if (handOff.returnTo !== undefined && !isAllowedReturnTo(deps.config.connectReturnUrls, handOff.returnTo)) {
    throw invalidField("return_to", "is not an allowed return URL (CONNECT_RETURN_URLS)");
  }
  const trusted = handOff.openerOrigin && deps.config.corsAllowedOrigins.includes(handOff.openerOrigin);
  return { returnTo: handOff.returnTo, openerOrigin: trusted ? handOff.openerOrigin : undefined };
}

/** `scenario` and `login` are for the sandboxes only, and a scenario must be one of the sandbox's. */
function refuseSandboxChoiceFor(deps: ConnectionDeps, provider: string, choice: SandboxChoice) {
  const errors: { path: string; message: string }[] = [];
  if (!isSandbox(provider)) {
    for (const k of ["scenario", "login"] as const) {
      if (choice[k] !== undefined) errors.push({ path: k, message: "is only accepted for the sandbox providers" });
    }
  } else if (choice.scenario !== undefined) {
    const scenarios = deps.providers.info(provider)?.scenarios ?? [];
    if (!scenarios.includes(choice.scenario)) {
      errors.push({ path: "scenario", message: `must be one of: ${scenarios.join(", ")}` });
    }
  }
  if (errors.length) throw invalidFields(errors);
}

/**
 * The provider to link, offered and configured here: 422 `provider_not_available` for a slug
 * this deployment does not list, 422 `provider_not_configured` for one listed without its
 * credentials (nothing half-works).
 */
export function offeredProvider(deps: ConnectionDeps, slug: string): OfferedProvider {
  const offered = deps.providers.get(slug);
  if (offered) return offered;
  if (deps.providers.info(slug)) throw providerNotConfigured(slug);
  throw providerNotAvailable(deps.providers.list().map((p) => p.slug));
}

/** What a redirect link needs beyond the owner: the bank, for a bank consent. */
interface LinkTarget {
  institutionId: string | null;
}

/**
 * A fresh state for `connectionId` and where to send the browser: the provider's consent page
 * (OAuth 2, with PKCE where the provider supports it) or the bank's (a GoCardless requisition,
 * its `reference` the state and a secret only the bank's redirect carries back: the initiator
 * cannot complete a consent someone else gave without that browser). Returns the INSERT storing
 * the state (as SHA-256) with its sealed secret (the verifier, or the requisition id) for the
 * caller's batch.
 */
async function newAuthorization(
  deps: ConnectionDeps,
  owner: { userId: string; connectionId: string; provider: string },
  purpose: "connect" | "reauthorize",
  choice: SandboxChoice,
  handOff: HandOff,
  target: LinkTarget,
) {
  const offered = offeredProvider(deps, owner.provider);
  const now = deps.now();
  const state = randomToken();
  const stateHash = await sha256Hex(state);
  const redirectUri = `${deps.config.appBaseUrl}${CALLBACK_PATH}`;
  const link = offered.link;
  let url: URL;
  let secret: string;
  let referenceHash: string | null = null;
  if (link.kind === "oauth2") {
    // RFC 7636 §4.1: 32 random octets, base64url → 43 unreserved characters; §4.2: S256 challenge.
    // A provider without PKCE (Alpaca) never sees it; the state alone binds the flow.
    secret = randomToken();
    const codeChallenge = base64url(
      new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret))),
    );
    url = new URL(link.adapter.authorizationUrl({ state, codeChallenge, redirectUri, scenario: choice.scenario }));
    if (choice.login !== undefined) url.searchParams.set("login", choice.login);
  } else if (link.kind === "bank_consent") {
    if (!target.institutionId) throw invalidField("institution_id", "is required for this provider");
    // The bank sends the browser back with `ref=<reference>`; its second half proves it.
    const proof = randomToken();
    referenceHash = await sha256Hex(proof);
    const consent = await providerCall(deps, () =>
      link.adapter.startConsent({
        institutionId: target.institutionId as string,
        redirect: redirectUri,
        reference: `${state}.${proof}`,
        scenario: choice.scenario,
        login: choice.login,
      }),
    );
    url = new URL(consent.link);
    secret = consent.requisitionId;
  } else {
    throw invalidField("setup_token", "is required for this provider (it links with a setup token, not a redirect)");
  }
  const keyring = deps.config.encryption.keyring;
  const codeVerifierEnc = await keyring.encrypt(secret, { ...owner, field: verifierField(stateHash) });
  const insert = insertOAuthState(deps.db, {
    stateHash,
    userId: owner.userId,
    connectionId: owner.connectionId,
    provider: owner.provider,
    purpose,
    codeVerifierEnc,
    keyId: keyring.activeKeyId,
    redirectUri,
    returnTo: handOff.returnTo ?? null,
    openerOrigin: handOff.openerOrigin ?? null,
    referenceHash,
    createdAt: now,
    expiresAt: new Date(now.getTime() + STATE_TTL_SECONDS * 1000),
  });
  const start: AuthorizationStart = { authorization_url: url.toString(), state, expires_in: STATE_TTL_SECONDS };
  return { start, insert, now };
}

/**
 * A write of the user's new rows: an account erased meanwhile (its directory row gone while we
 * talked to the provider) refuses them by foreign key, and this caller is no one any more.
 */
async function forLiveUser<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    const said = (e: unknown): string => (e instanceof Error ? `${e.message} ${said(e.cause)}` : "");
    if (/FOREIGN KEY constraint failed/i.test(said(err))) {
      throw fail("session_revoked", "This account was deleted while the connection was being made.");
    }
    throw err;
  }
}

/** A provider call made on a person's behalf: its failure answers as the API's provider errors. */
async function providerCall<T>(deps: ConnectionDeps, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    deps.logger.warn("starting a link failed", failureDetails(err));
    // The bank id was refused (400 unknown, 404 gone from the catalogue).
    if (err.kind === "rejected" && (err.status === 400 || err.status === 404)) {
      throw invalidField("institution_id", "is not a bank this provider can link now (see GET /api/v1/institutions)");
    }
    throw providerApiError(err);
  }
}

/** What starting a link answers: where to send the person, or (setup token) nothing to do there. */
export type LinkStart = AuthorizationStart | { authorization_url: null; state: null; expires_in: null };
const NO_REDIRECT = { authorization_url: null, state: null, expires_in: null } as const;

/** POST /connections input. */
export type ConnectInput = {
  provider: string;
  alias?: string | null;
  institutionId?: string;
  setupToken?: string;
} & SandboxChoice &
  HandOff;

/** Refuses the fields of another kind of link. */
function refuseFieldsOfOtherKinds(offered: OfferedProvider, input: { institutionId?: string; setupToken?: string }) {
  const errors: { path: string; message: string }[] = [];
  if (input.institutionId !== undefined && offered.link.kind !== "bank_consent") {
    errors.push({
      path: "institution_id",
      message: "is only accepted for providers that link a bank (needs_institution)",
    });
  }
  if (input.setupToken !== undefined && offered.link.kind !== "setup_token") {
    errors.push({ path: "setup_token", message: "is only accepted for providers that link with a setup token" });
  }
  if (errors.length) throw invalidFields(errors);
}

/**
 * Creates a connection. A redirect link (OAuth 2, bank consent) creates it `pending` with its
 * authorization request; a setup token is claimed at once and the connection is `active`.
 * Audited in the same batch as the write.
 */
export async function startConnect(
  deps: ConnectionDeps,
  meta: RequestMeta,
  userId: string,
  input: ConnectInput,
): Promise<LinkStart & { connection: ConnectionView }> {
  refuseSandboxChoiceFor(deps, input.provider, input);
  const handOff = checkHandOff(deps, input);
  const offered = offeredProvider(deps, input.provider);
  refuseFieldsOfOtherKinds(offered, input);
  if (offered.link.kind === "setup_token" && input.setupToken === undefined) {
    throw invalidField("setup_token", "is required for this provider (paste the token from your SimpleFIN Bridge)");
  }
  const existing = (await countUserConnections(deps.db, userId))?.n ?? 0;
  if (existing >= MAX_CONNECTIONS_PER_USER) {
    throw fail(
      "connection_limit_reached",
      `At most ${MAX_CONNECTIONS_PER_USER} connections per user; delete one first.`,
    );
  }
  const connectionId = newId("con");
  const owner = { userId, connectionId, provider: input.provider };
  const institutionId =
    offered.link.kind === "bank_consent" ? await knownInstitution(deps, offered, input.institutionId) : null;
  const details = {
    ...(input.scenario ? { scenario: input.scenario } : {}),
    ...(institutionId ? { institution_id: institutionId } : {}),
  };

  if (offered.link.kind === "setup_token") {
    const credentials = await claimSetupToken(deps, offered.link.adapter, input.setupToken as string);
    const now = deps.now();
    const sealed = await sealCredentials(deps.config.encryption.keyring, owner, credentials);
    const [rows] = await forLiveUser(
      deps.db.batch([
        insertConnection(deps.db, {
          id: connectionId,
          userId,
          provider: input.provider,
          alias: input.alias ?? null,
          status: "active",
          ...sealed,
          credentialsUpdatedAt: now,
          createdAt: now,
          updatedAt: now,
        }).returning(),
        connectionAudit(deps.db, meta, now, {
          action: "connection.connected",
          outcome: "success",
          userId,
          connectionId,
          provider: input.provider,
          details: { ...details, link: "setup_token" },
        }),
      ]),
    );
    const row = rows[0];
    if (!row) throw new Error("connection insert returned nothing");
    return { connection: connectionView(row, now, deps.config.providers), ...NO_REDIRECT };
  }

  const { start, insert, now } = await newAuthorization(deps, owner, "connect", input, handOff, { institutionId });
  const [rows] = await forLiveUser(
    deps.db.batch([
      insertConnection(deps.db, {
        id: connectionId,
        userId,
        provider: input.provider,
        alias: input.alias ?? null,
        status: "pending",
        institutionId,
        createdAt: now,
        updatedAt: now,
      }).returning(),
      insert,
      connectionAudit(deps.db, meta, now, {
        action: "connection.connect_started",
        outcome: "success",
        userId,
        connectionId,
        provider: input.provider,
        details: {
          ...details,
          hand_off: handOff.returnTo ? "return_to" : handOff.openerOrigin ? "post_message" : "page",
        },
      }),
    ]),
  );
  const row = rows[0];
  if (!row) throw new Error("connection insert returned nothing");
  return { connection: connectionView(row, now, deps.config.providers), ...start };
}

/**
 * Starts the provider's kind of link again for an existing connection, which keeps its id and
 * its data: a new authorization request (superseding any outstanding one), or a new setup token
 * claimed at once. Refused (409 `reauth_not_needed`) for a healthy connection whose credentials
 * or consent are not near their end.
 */
export async function startReauthorize(
  deps: ConnectionDeps,
  meta: RequestMeta,
  userId: string,
  connectionId: string,
  choice: SandboxChoice & HandOff & { setupToken?: string },
): Promise<LinkStart & { connection: ConnectionView }> {
  const row = await findUserConnection(deps.db, userId, connectionId);
  if (!row) throw notFound("connection");
  refuseSandboxChoiceFor(deps, row.provider, choice);
  const handOff = checkHandOff(deps, choice);
  const offered = offeredProvider(deps, row.provider);
  refuseFieldsOfOtherKinds(offered, choice);
  const view = connectionView(row, deps.now(), deps.config.providers);
  const healthy = row.status === "active" || row.status === "syncing";
  if (healthy && !view.reauth_recommended) {
    throw fail(
      "reauth_not_needed",
      "This connection's credentials are working and not near expiry; nothing to reauthorize.",
    );
  }
  const audit = (now: Date, action: string) =>
    connectionAudit(deps.db, meta, now, {
      action,
      outcome: "success",
      userId,
      connectionId,
      provider: row.provider,
      details: { status: row.status, ...(choice.scenario ? { scenario: choice.scenario } : {}) },
    });

  if (offered.link.kind === "setup_token") {
    if (choice.setupToken === undefined) {
      throw invalidField("setup_token", "is required: paste a new token from your SimpleFIN Bridge");
    }
    const credentials = await claimSetupToken(deps, offered.link.adapter, choice.setupToken);
    const now = deps.now();
    const sealed = await sealCredentials(deps.config.encryption.keyring, { userId, connectionId }, credentials);
    const [updated] = await deps.db.batch([
      updateUserConnection(deps.db, userId, connectionId, { ...sealed, ...freshCredentialsPatch(now) }),
      audit(now, "connection.reauthorized"),
    ]);
    const fresh = updated[0];
    if (!fresh) throw notFound("connection");
    return { connection: connectionView(fresh, now, deps.config.providers), ...NO_REDIRECT };
  }

  const owner = { userId, connectionId, provider: row.provider };
  const target = { institutionId: row.institutionId };
  const { start, insert, now } = await newAuthorization(deps, owner, "reauthorize", choice, handOff, target);
  const [superseded] = await deps.db.batch([
    expireConnectionStates(deps.db, connectionId, now),
    insert,
    audit(now, "connection.reauthorize_started"),
  ]);
  // The consent flows this one spent (not one completed meanwhile, whose requisition is now the
  // connection's credential): withdraw them at the bank too (./revoke.ts).
  const withdrawn = await requisitionsOf(deps, row, superseded);
  if (withdrawn.length) deps.defer(withdrawRequisitions(deps, row.provider, withdrawn));
  return { connection: view, ...start };
}
