/**
 * Starting an OAuth 2 authorization-code flow with PKCE (RFC 6749 §4.1, RFC 7636): a new
 * connection (`connect`) or new credentials for an existing one (`reauthorize`).
 */
import { base64url, newId, randomToken, sha256Hex } from "../../crypto/random";
import { countUserConnections, findUserConnection, insertConnection } from "../../db/connections";
import { expireConnectionStates, insertOAuthState } from "../../db/oauth-states";
import { fail, invalidField, invalidFields, notFound } from "../../errors";
import type { RequestMeta } from "../context";
import { connectionAudit } from "./audit";
import { verifierField } from "./credentials";
import type { ConnectionDeps } from "./deps";
import { providerNotAvailable } from "./errors";
import { isAllowedReturnTo } from "./return-to";
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

function refuseSandboxChoiceFor(provider: string, choice: SandboxChoice) {
  if (provider === "sandbox") return;
  const errors = (["scenario", "login"] as const)
    .filter((k) => choice[k] !== undefined)
    .map((k) => ({ path: k, message: "is only accepted for the sandbox provider" }));
  if (errors.length) throw invalidFields(errors);
}

/**
 * A fresh state and PKCE pair for `connectionId`: the browser-facing URL, and the INSERT that
 * stores the state (as SHA-256) with its verifier (encrypted) for the caller's batch.
 */
async function newAuthorization(
  deps: ConnectionDeps,
  owner: { userId: string; connectionId: string; provider: string },
  purpose: "connect" | "reauthorize",
  choice: SandboxChoice,
  handOff: HandOff,
) {
  const offered = deps.providers.get(owner.provider);
  if (!offered) throw providerNotAvailable(deps.providers.list().map((p) => p.slug));
  const now = deps.now();
  const state = randomToken();
  const stateHash = await sha256Hex(state);
  // RFC 7636 §4.1: 32 random octets, base64url → 43 unreserved characters; §4.2: S256 challenge.
  const verifier = randomToken();
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))),
  );
  const redirectUri = `${deps.config.appBaseUrl}${CALLBACK_PATH}`;
  const keyring = deps.config.encryption.keyring;
  const codeVerifierEnc = await keyring.encrypt(verifier, { ...owner, field: verifierField(stateHash) });
  const url = new URL(
    offered.adapter.authorizationUrl({ state, codeChallenge: challenge, redirectUri, scenario: choice.scenario }),
  );
  if (choice.login !== undefined) url.searchParams.set("login", choice.login);
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
    createdAt: now,
    expiresAt: new Date(now.getTime() + STATE_TTL_SECONDS * 1000),
  });
  const start: AuthorizationStart = { authorization_url: url.toString(), state, expires_in: STATE_TTL_SECONDS };
  return { start, insert, now };
}

/** Creates a `pending` connection and its authorization request; audited in the same batch. */
export async function startConnect(
  deps: ConnectionDeps,
  meta: RequestMeta,
  userId: string,
  input: { provider: string; alias?: string | null } & SandboxChoice & HandOff,
): Promise<AuthorizationStart & { connection: ConnectionView }> {
  refuseSandboxChoiceFor(input.provider, input);
  const handOff = checkHandOff(deps, input);
  if (!deps.providers.get(input.provider)) throw providerNotAvailable(deps.providers.list().map((p) => p.slug));
  const existing = (await countUserConnections(deps.db, userId))?.n ?? 0;
  if (existing >= MAX_CONNECTIONS_PER_USER) {
    throw fail(
      "connection_limit_reached",
      `At most ${MAX_CONNECTIONS_PER_USER} connections per user; delete one first.`,
    );
  }
  const connectionId = newId("con");
  const owner = { userId, connectionId, provider: input.provider };
  const { start, insert, now } = await newAuthorization(deps, owner, "connect", input, handOff);
  const [rows] = await deps.db.batch([
    insertConnection(deps.db, {
      id: connectionId,
      userId,
      provider: input.provider,
      alias: input.alias ?? null,
      status: "pending",
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
        ...(input.scenario ? { scenario: input.scenario } : {}),
        hand_off: handOff.returnTo ? "return_to" : handOff.openerOrigin ? "post_message" : "page",
      },
    }),
  ]);
  const row = rows[0];
  if (!row) throw new Error("connection insert returned nothing");
  return { connection: connectionView(row, now, deps.config.providers.reauthWarningMs), ...start };
}

/**
 * A new authorization request for an existing connection, superseding any outstanding one.
 * Refused (409 `reauth_not_needed`) for a healthy connection whose credentials are not near expiry.
 */
export async function startReauthorize(
  deps: ConnectionDeps,
  meta: RequestMeta,
  userId: string,
  connectionId: string,
  choice: SandboxChoice & HandOff,
): Promise<AuthorizationStart> {
  const row = await findUserConnection(deps.db, userId, connectionId);
  if (!row) throw notFound("connection");
  refuseSandboxChoiceFor(row.provider, choice);
  const handOff = checkHandOff(deps, choice);
  const view = connectionView(row, deps.now(), deps.config.providers.reauthWarningMs);
  const healthy = row.status === "active" || row.status === "syncing";
  if (healthy && !view.reauth_recommended) {
    throw fail(
      "reauth_not_needed",
      "This connection's credentials are working and not near expiry; nothing to reauthorize.",
    );
  }
  const owner = { userId, connectionId, provider: row.provider };
  const { start, insert, now } = await newAuthorization(deps, owner, "reauthorize", choice, handOff);
  await deps.db.batch([
    expireConnectionStates(deps.db, connectionId, now),
    insert,
    connectionAudit(deps.db, meta, now, {
      action: "connection.reauthorize_started",
      outcome: "success",
      userId,
      connectionId,
      provider: row.provider,
      details: { status: row.status, ...(choice.scenario ? { scenario: choice.scenario } : {}) },
    }),
  ]);
  return start;
}
