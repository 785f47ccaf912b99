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
