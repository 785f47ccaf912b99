/**
 * Provider credentials at rest: keyring ciphertext bound to (user, connection, field) as AES-GCM
 * additional data, so a value copied to another row or field fails to decrypt.
 */
import type { Keyring } from "../../crypto/keyring";
import type { ConnectionPatch, ConnectionRow } from "../../db/connections";
import type { ProviderTokens } from "../../providers/types";

/** AAD field names; part of the ciphertext binding, so never rename them. */
export const FIELDS = { access: "access_token", refresh: "refresh_token" } as const;

/** AAD field of a PKCE verifier: bound to its state row too, so verifiers cannot be swapped. */
export const verifierField = (stateHash: string) => `code_verifier:${stateHash}`;

/**
 * A connection's credentials, whatever the link: `credential` is what the data calls take (the
 * OAuth access token, a GoCardless requisition id, a SimpleFIN access URL with its embedded
 * password); the refresh token exists only for providers that refresh (Schwab).
 */
export interface Credentials {
  credential: string;
  refreshToken: string | null;
  /** When `credential` stops working, if it ever does. */
  expiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
}

/** Encrypts a connection's credentials; returns the columns to write. */
export async function sealCredentials(
  keyring: Keyring,
  owner: { userId: string; connectionId: string },
  c: Credentials,
): Promise<ConnectionPatch> {
  const [access, refresh] = await Promise.all([
    keyring.encrypt(c.credential, { ...owner, field: FIELDS.access }),
    c.refreshToken === null ? null : keyring.encrypt(c.refreshToken, { ...owner, field: FIELDS.refresh }),
  ]);
  return {
    accessTokenEnc: access,
    refreshTokenEnc: refresh,
    credentialsKeyId: keyring.activeKeyId,
    accessTokenExpiresAt: c.expiresAt,
    refreshTokenExpiresAt: c.refreshTokenExpiresAt,
  };
}

/** The credentials of a row that has them. Throws KeyringError when they do not open. */
export async function openCredentials(keyring: Keyring, row: ConnectionRow): Promise<Credentials> {
  if (!row.accessTokenEnc) throw new Error("connection has no credentials");
  const owner = { userId: row.userId, connectionId: row.id };
  const [credential, refreshToken] = await Promise.all([
    keyring.decrypt(row.accessTokenEnc, { ...owner, field: FIELDS.access }),
    row.refreshTokenEnc ? keyring.decrypt(row.refreshTokenEnc, { ...owner, field: FIELDS.refresh }) : null,
  ]);
  return {
    credential,
    refreshToken,
    expiresAt: row.accessTokenExpiresAt,
    refreshTokenExpiresAt: row.refreshTokenExpiresAt,
  };
}

/** Encrypts a token pair for a connection row; returns the columns to write. */
export async function sealTokens(
  keyring: Keyring,
  owner: { userId: string; connectionId: string },
  tokens: Pick<ProviderTokens, "accessToken" | "refreshToken" | "accessTokenExpiresAt" | "refreshTokenExpiresAt">,
): Promise<ConnectionPatch> {
  const [access, refresh] = await Promise.all([
    keyring.encrypt(tokens.accessToken, { ...owner, field: FIELDS.access }),
    keyring.encrypt(tokens.refreshToken, { ...owner, field: FIELDS.refresh }),
  ]);
  return {
    accessTokenEnc: access,
    refreshTokenEnc: refresh,
    credentialsKeyId: keyring.activeKeyId,
    accessTokenExpiresAt: tokens.accessTokenExpiresAt,
    refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
  };
}

/** Decrypted credentials of a row that has them. Throws KeyringError when they do not open. */
export async function openTokens(keyring: Keyring, row: ConnectionRow): Promise<ProviderTokens> {
  if (!row.accessTokenEnc || !row.refreshTokenEnc || !row.accessTokenExpiresAt) {
    throw new Error("connection has no credentials");
  }
  const owner = { userId: row.userId, connectionId: row.id };
  const [accessToken, refreshToken] = await Promise.all([
    keyring.decrypt(row.accessTokenEnc, { ...owner, field: FIELDS.access }),
    keyring.decrypt(row.refreshTokenEnc, { ...owner, field: FIELDS.refresh }),
  ]);
  return {
    accessToken,
    refreshToken,
    accessTokenExpiresAt: row.accessTokenExpiresAt,
    refreshTokenExpiresAt: row.refreshTokenExpiresAt,
  };
}

/**
 * What new credentials reset on a connection: it is `active`, its past trouble and warnings are
 * cleared, and it is due at the scheduler's next tick (within 5 minutes) rather than after the
 * horizon a failed run pushed `next_sync_at` to. New credentials also win over a refresh in
 * flight with the old ones (that write needs the lease this clears).
 */
export function freshCredentialsPatch(now: Date): ConnectionPatch {
  return {
    status: "active",
    credentialsUpdatedAt: now,
    lastErrorCode: null,
    lastErrorMessage: null,
    lastErrorAt: null,
    consecutiveFailures: 0,
    cooldownUntil: null,
    reauthWarnedAt: null,
    consentWarnedAt: null,
    providerWarnings: null,
    refreshLockOwner: null,
    refreshLockUntil: null,
    nextSyncAt: null,
    updatedAt: now,
  };
}
