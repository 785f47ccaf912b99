/**
 * SimpleFIN setup tokens (docs/providers/simplefin.md "Setup token → Access URL"): base64 of a
 * claim URL; one POST claims it and answers the access URL as plain text. Neither the token, the
 * claim URL nor the access URL is ever logged or put in an error.
 */
import type { ProviderHttpClient } from "../http";
import {
  MalformedResponseError,
  type ProviderError,
  ProviderRejectedError,
  RateLimitedError,
  TransientProviderError,
} from "../types";

/** The setup token is not base64 of an http(s) claim URL (`…/claim/<code>`). Show the user. */
export class SetupTokenInvalidError extends Error {
  readonly code = "setup_token_invalid" as const;
  override readonly name = "SetupTokenInvalidError";
}

/**
 * The Bridge refused the claim (403): the token was already claimed or never existed. SimpleFIN
 * asks apps to tell the user it may be compromised (someone else may have claimed it).
 */
export class SetupTokenClaimedError extends Error {
  readonly code = "setup_token_claimed" as const;
  override readonly name = "SetupTokenClaimedError";
}

/** Which URLs a setup token or access URL may point at (SSRF guard). */
export type SimpleFinUrlPolicy = (url: URL) => boolean;

/**
 * The default: https only, and never an IP literal, a single-label name (`vm`, from a hosts file)
 * or a local name (a trailing dot removed first: `localhost.` is localhost), nor a public name
 * that maps to any address it is given (nip.io and its kind), so a user's token cannot make the
 * server call inside our network. A public name that resolves to a private address cannot be told
 * here (a Worker resolves no names); Cloudflare's network does not route to private ranges. The
 * sandbox passes its own policy (its fetch only reaches the in-process simulator anyway).
 */
export const defaultSimpleFinUrlPolicy: SimpleFinUrlPolicy = (url) => {
  const host = url.hostname.replace(/\.+$/, "").toLowerCase();
  return (
    url.protocol === "https:" &&
    host.includes(".") &&
    !/^\[|^[\d.]+$|^0x/i.test(host) &&
    !/(^|\.)(localhost|local|internal|localdomain|home\.arpa|nip\.io|sslip\.io|xip\.io|localtest\.me)$/.test(host)
  );
};

/** The claim URL inside a setup token, or SetupTokenInvalidError. */
export function decodeSetupToken(setupToken: string, policy: SimpleFinUrlPolicy = defaultSimpleFinUrlPolicy): URL {
  const compact = setupToken.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact) || compact.length > 4096) {
    throw new SetupTokenInvalidError("the setup token is not base64");
  }
  let text: string;
  try {
    const bin = atob(
      compact
        .replace(/-/g, "+")
        .replace(/_/g, "/")
        .padEnd(Math.ceil(compact.length / 4) * 4, "="),
    );
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(bin, (c) => c.charCodeAt(0)),
    );
  } catch {
    throw new SetupTokenInvalidError("the setup token is not base64 of text");
  }
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new SetupTokenInvalidError("the setup token does not hold a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new SetupTokenInvalidError("not an http(s) URL");
  if (url.username || url.password) throw new SetupTokenInvalidError("a claim URL carries no credentials");
  if (!/\/claim\/[^/]+$/.test(url.pathname)) throw new SetupTokenInvalidError("not a SimpleFIN claim URL");
  if (!policy(url)) throw new SetupTokenInvalidError("the claim URL's host is not allowed");
  return url;
}

/** An access URL split for use: the root without userinfo and the Basic credentials. */
export interface AccessUrl {
  /** `https://host/path` without credentials or a trailing slash. */
  root: string;
  authorization: string;
}

const basic = (user: string, pass: string) => {
  let bin = "";
  for (const b of new TextEncoder().encode(`${user}:${pass}`)) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
};

/** Splits an access URL (`https://user:pass@host/simplefin`); null when it is not one. */
export function parseAccessUrl(text: string, policy: SimpleFinUrlPolicy = defaultSimpleFinUrlPolicy): AccessUrl | null {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return null;
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || !url.username || !url.password || !policy(url)) {
    return null;
  }
  const authorization = basic(decodeURIComponent(url.username), decodeURIComponent(url.password));
  url.username = "";
  url.password = "";
  url.search = "";
  url.hash = "";
  return { root: url.toString().replace(/\/+$/, ""), authorization };
}

/** Our own errors for a failed claim: the detail never holds the body (it could echo secrets). */
function claimError(status: number): ProviderError | SetupTokenClaimedError {
  const info = { status, detail: `claim answered HTTP ${status}` };
  if (status === 403) return new SetupTokenClaimedError("the setup token was already claimed or is unknown");
  if (status === 429) return new RateLimitedError("simplefin claim: HTTP 429", null, { ...info, reason: "burst" });
  if (status === 408 || status >= 500) return new TransientProviderError(`simplefin claim: HTTP ${status}`, info);
  return new ProviderRejectedError(`simplefin claim: HTTP ${status}`, info);
}

/**
 * Claims a setup token: POST to its claim URL with an empty body; 200 → the trimmed access URL.
 * Throws SetupTokenInvalidError (malformed token), SetupTokenClaimedError (403), or provider errors.
 */
export async function claimSetupToken(
  http: ProviderHttpClient,
  setupToken: string,
  policy: SimpleFinUrlPolicy = defaultSimpleFinUrlPolicy,
): Promise<string> {
  const claimUrl = decodeSetupToken(setupToken, policy);
  let claimed: SetupTokenClaimedError | null = null;
  const answer = await http
    .text({
      operation: "claim",
      method: "POST",
      url: claimUrl.toString(),
      // An empty body: Content-Length: 0.
      body: "",
      headers: { Accept: "text/plain" },
      classify: (a) => {
        const err = claimError(a.status);
        if (err instanceof SetupTokenClaimedError) {
          claimed = err;
          return new ProviderRejectedError("simplefin claim: HTTP 403", {
            status: 403,
            detail: "claim answered HTTP 403",
          });
        }
        return err;
      },
    })
    .catch((err: unknown) => {
      throw claimed ?? err;
    });
  const accessUrl = answer.data.trim();
  if (!parseAccessUrl(accessUrl, policy)) {
    throw new MalformedResponseError("simplefin claim: the answer is not an access URL", {
      status: answer.status,
      detail: "not an access URL",
    });
  }
  return accessUrl;
}
