/**
 * Claiming a SimpleFIN setup token (docs/providers/simplefin.md "Setup token"): the person pastes
 * it, we claim it once and keep the access URL it answers, sealed like every credential. The
 * token and the URL are never logged, audited or returned.
 */
import { fail } from "../../errors";
import type { SimpleFinAdapter } from "../../providers/simplefin/adapter";
import { SetupTokenClaimedError, SetupTokenInvalidError } from "../../providers/simplefin/setup-token";
import { ProviderError } from "../../providers/types";
import type { Credentials } from "./credentials";
import type { ConnectionDeps } from "./deps";
import { failureDetails, providerApiError } from "./errors";

/** The credentials a setup token gives: the access URL, which never expires or refreshes. */
export async function claimSetupToken(
  deps: Pick<ConnectionDeps, "logger">,
  adapter: SimpleFinAdapter,
  setupToken: string,
): Promise<Credentials> {
  try {
    const accessUrl = await adapter.claimSetupToken(setupToken.trim());
    return { credential: accessUrl, refreshToken: null, expiresAt: null, refreshTokenExpiresAt: null };
  } catch (err) {
    if (err instanceof SetupTokenInvalidError) {
      throw fail("setup_token_invalid", "This is not a SimpleFIN setup token; copy it again from your bridge.", {
        errors: [{ path: "setup_token", message: "is not a setup token (base64 of the bridge's claim URL)" }],
      });
    }
    if (err instanceof SetupTokenClaimedError) {
      throw fail(
        "setup_token_claimed",
        // SimpleFIN's protocol asks apps to say so: a claimed token may have been claimed by someone else.
        "This setup token was already claimed, or is unknown to the bridge. If you did not claim it yourself, it may be compromised: disable it at your SimpleFIN Bridge, then make a new one there.",
      );
    }
    if (!(err instanceof ProviderError)) throw err;
    deps.logger.warn("setup token claim failed", failureDetails(err));
    throw providerApiError(err);
  }
}
