/**
 * The GET callback's whole job: hand the provider's answer (`code` or `error`, with `state`) back
 * to the app that started the flow, which completes it with its own access token. It spends
 * nothing and changes nothing, and never shows text the initiator chose (the alias), so a link
 * an attacker sends cannot make this page vouch for them.
 */
import { sha256Hex } from "../../crypto/random";
import { findOAuthState } from "../../db/oauth-states";
import type { ConnectionDeps } from "./deps";
import { returnUrlWith } from "./return-to";

/** What the provider sent back, as the app receives it. */
export interface HandOffParams {
  state: string;
  code?: string | undefined;
  error?: string | undefined;
}

/** The message a web app's opener window receives (`event.data`). */
export interface HandOffMessage extends HandOffParams {
  type: "ledgerlink.connect";
}

export type HandOffAnswer =
  /** Redirect the browser to the app's allow-listed `return_to`, answer in its query. */
  | { kind: "redirect"; location: string }
  /** A page that posts the answer to its opener window, at the app's origin only. */
  | { kind: "post_message"; origin: string; message: HandOffMessage; providerName: string }
  /** A page asking the person to return to the app (which polls, or reads the JSON answer). */
  | { kind: "return_to_app"; providerName: string }
  /** The state is unknown, used or expired: nothing to hand back. */
  | { kind: "expired" };

/** RFC 6749 §4.1.2.1 error codes are ASCII; anything else is handed back as a generic refusal. */
const oauthErrorCode = (e: string) => (/^[a-z_]{1,64}$/.test(e) ? e : "invalid_request");

export function handOffParams(q: HandOffParams): HandOffParams {
  return q.error !== undefined ? { state: q.state, error: oauthErrorCode(q.error) } : { state: q.state, code: q.code };
}

export async function handOff(deps: ConnectionDeps, query: HandOffParams): Promise<HandOffAnswer> {
  const found = await findOAuthState(deps.db, await sha256Hex(query.state));
  if (!found || found.usedAt || found.expiresAt <= deps.now()) return { kind: "expired" };
  const params = handOffParams(query);
  const providerName = deps.providers.get(found.provider)?.info.name ?? found.provider;
  if (found.returnTo) {
    const answer: Record<string, string> = { state: params.state };
    if (params.code !== undefined) answer.code = params.code;
    if (params.error !== undefined) answer.error = params.error;
    return { kind: "redirect", location: returnUrlWith(found.returnTo, answer) };
  }
  if (found.openerOrigin) {
    return {
      kind: "post_message",
      origin: found.openerOrigin,
      message: { type: "ledgerlink.connect", ...params },
      providerName,
    };
  }
  return { kind: "return_to_app", providerName };
}
