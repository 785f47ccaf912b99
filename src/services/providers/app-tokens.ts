/**
 * GoCardless's app token pair kept in one place (docs/providers/gocardless.md "Tokens"): sealed
 * in D1 under the keyring, renewed by one caller at a time under a lease, and remembered per
 * isolate until shortly before it expires. Syncs and connects never mint their own: GoCardless
 * allows 100 mints an hour per company. A pair sealed under a retired key is simply minted again.
 */

import type { Keyring } from "../../crypto/keyring";
import { KeyringError } from "../../crypto/keyring";
import { randomToken } from "../../crypto/random";
import {
  type AppTokenRow,
  expireAppToken,
  findAppToken,
  leaseAppToken,
  releaseAppToken,
  storeAppToken,
} from "../../db/app-tokens";
import type { Db } from "../../db/client";
import type { Logger } from "../../logger";
import {
  type AppSecrets,
  type AppTokenSource,
  type GoCardlessHttp,
  mintAppToken,
  refreshAppToken,
} from "../../providers/gocardless/app-token";
import { AppTokenRefusedError } from "../../providers/gocardless/errors";

/** Renew this long before expiry (a sync's calls must not outlive the token). */
const MARGIN_MS = 5 * 60_000;
/** The lease covers a refresh and a mint, each bounded by the provider timeout. */
const LEASE_MS = 60_000;
const POLL_MS = 100;

/** What the store needs; a plain shape (deps.ts builds it, so this cannot import deps.ts). */
export interface TokenDeps {
  db: Db;
  keyring: Keyring;
  logger: Logger;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
}

/** Per isolate: the last access token seen per provider slug. */
const remembered = new Map<string, { access: string; accessEnc: string; expiresAt: number }>();

const context = (provider: string, field: "access" | "refresh") => ({
  userId: "app",
  connectionId: `provider:${provider}`,
  field: `app_token_${field}`,
});

async function opened(deps: TokenDeps, provider: string, row: AppTokenRow | undefined) {
  if (!row?.accessEnc || !row.accessExpiresAt) return null;
  try {
    const [access, refresh] = await Promise.all([
      deps.keyring.decrypt(row.accessEnc, context(provider, "access")),
      row.refreshEnc ? deps.keyring.decrypt(row.refreshEnc, context(provider, "refresh")) : null,
    ]);
    return { access, refresh, row };
  } catch (err) {
    if (err instanceof KeyringError) return null; // sealed under a retired key: mint again
    throw err;
  }
}

const live = (at: Date | null | undefined, now: Date) =>
  at !== null && at !== undefined && at.getTime() - MARGIN_MS > now.getTime();

/** The D1-kept token source of one provider slug. */
export function storedAppTokens(
  deps: TokenDeps,
  provider: string,
  gc: GoCardlessHttp,
  secrets: AppSecrets,
): AppTokenSource {
  async function renew(owner: string): Promise<string> {
    const now = deps.now();
    const current = await opened(deps, provider, await findAppToken(deps.db, provider));
    if (current && live(current.row.accessExpiresAt, now)) {
      await releaseAppToken(deps.db, provider, owner);
      return current.access;
    }
    let pair: { access: string; accessExpiresAt: Date; refresh: string; refreshExpiresAt: Date } | null = null;
    if (current?.refresh && live(current.row.refreshExpiresAt, now)) {
      try {
        const renewed = await refreshAppToken(gc, current.refresh);
        pair = { ...renewed, refresh: current.refresh, refreshExpiresAt: current.row.refreshExpiresAt as Date };
      } catch (err) {
        if (!(err instanceof AppTokenRefusedError)) throw err;
      }
    }
    pair ??= await mintAppToken(gc, secrets);
    const [accessEnc, refreshEnc] = await Promise.all([
      deps.keyring.encrypt(pair.access, context(provider, "access")),
      deps.keyring.encrypt(pair.refresh, context(provider, "refresh")),
    ]);
    await storeAppToken(deps.db, provider, owner, {
      accessEnc,
      accessExpiresAt: pair.accessExpiresAt,
      refreshEnc,
      refreshExpiresAt: pair.refreshExpiresAt,
      keyId: deps.keyring.activeKeyId,
      updatedAt: now,
    });
    remembered.set(provider, { access: pair.access, accessEnc, expiresAt: pair.accessExpiresAt.getTime() });
    return pair.access;
  }

  return {
    async get() {
      const deadline = deps.now().getTime() + LEASE_MS + 5_000;
      for (;;) {
        const now = deps.now();
        const known = remembered.get(provider);
        if (known && known.expiresAt - MARGIN_MS > now.getTime()) return known.access;
        const current = await opened(deps, provider, await findAppToken(deps.db, provider));
        if (current && live(current.row.accessExpiresAt, now)) {
          remembered.set(provider, {
            access: current.access,
            accessEnc: current.row.accessEnc as string,
            expiresAt: (current.row.accessExpiresAt as Date).getTime(),
          });
          return current.access;
        }
        const owner = randomToken();
        if (await leaseAppToken(deps.db, provider, owner, now, new Date(now.getTime() + LEASE_MS))) {
          try {
            return await renew(owner);
          } catch (err) {
            await releaseAppToken(deps.db, provider, owner);
            throw err;
          }
        }
        if (deps.now().getTime() > deadline) throw new Error(`${provider}: the app token renewal lease is stuck`);
        await deps.sleep(POLL_MS);
      }
    },
    async rejected(token) {
      const known = remembered.get(provider);
      if (known?.access === token) {
        remembered.delete(provider);
        await expireAppToken(deps.db, provider, known.accessEnc, deps.now());
        return;
      }
      const current = await opened(deps, provider, await findAppToken(deps.db, provider));
      if (current?.access === token && current.row.accessEnc) {
        await expireAppToken(deps.db, provider, current.row.accessEnc, deps.now());
      }
    },
  };
}

/** Tests: forget what this isolate remembers. */
export const forgetRememberedAppTokens = () => remembered.clear();
