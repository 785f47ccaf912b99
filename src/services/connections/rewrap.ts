/**
 * Key rotation's second half (docs/key-rotation.md): re-encrypts ciphertexts stored under older
 * keyring keys with the active key, in bounded batches, so an old key can then be retired.
 * Each row is swapped only if its ciphertext is still the one read (compare-and-swap), so a
 * concurrent refresh or re-auth is never overwritten with older credentials.
 */
import { type Keyring, KeyringError } from "../../crypto/keyring";
import { insertAudit } from "../../db/audit";
import { batchAll } from "../../db/batch";
import type { Db } from "../../db/client";
import { connectionsUnderOldKeys, swapCredentials } from "../../db/connections";
import { mfaSecretsUnderOldKeys, swapMfaSecret } from "../../db/mfa";
import { statesUnderOldKeys, swapStateVerifier } from "../../db/oauth-states";
import type { Logger } from "../../logger";
import { secretContext } from "../identity/mfa";
import { FIELDS, verifierField } from "./credentials";

/** Per-run bounds: rows per D1 batch, and rows per run (the rest waits for the next hour). */
export interface RewrapLimits {
  batchSize: number;
  maxRows: number;
}

export const DEFAULT_REWRAP_LIMITS: RewrapLimits = { batchSize: 50, maxRows: 1000 };

/** What one run did; `remaining` is true when it stopped at `maxRows` with more to do. */
export interface RewrapReport {
  active_key_id: string;
  connections: number;
  oauth_states: number;
  /** Users' TOTP secrets (MFA). */
  mfa_secrets: number;
  failed: number;
  remaining: boolean;
}

type Swap =
  | ReturnType<typeof swapCredentials>
  | ReturnType<typeof swapStateVerifier>
  | ReturnType<typeof swapMfaSecret>;

/** Runs the swaps in one batch; counts those that found their row unchanged. */
async function run(db: Db, swaps: Swap[]) {
  const results = (await batchAll(db, swaps)) as unknown[][];
  return results.filter((r) => r.length > 0).length;
}

/** Re-wraps connection credentials, in-flight PKCE verifiers and TOTP secrets under the active key. */
export async function rewrapCredentials(
  db: Db,
  keyring: Keyring,
  logger: Logger,
  now: Date,
  limits: RewrapLimits = DEFAULT_REWRAP_LIMITS,
): Promise<RewrapReport> {
  const report: RewrapReport = {
    active_key_id: keyring.activeKeyId,
    connections: 0,
    oauth_states: 0,
    mfa_secrets: 0,
    failed: 0,
    remaining: false,
  };
  let budget = limits.maxRows;
  const failed = (table: string, id: string, err: unknown) => {
    report.failed++;
    // Ids and error codes only; never ciphertext or plaintext.
    logger.error("rewrap failed", { table, id, code: err instanceof KeyringError ? err.code : "error" });
    if (!(err instanceof KeyringError)) throw err;
  };

  let after = "";
  while (budget > 0) {
    const rows = await connectionsUnderOldKeys(db, keyring.activeKeyId, after, Math.min(limits.batchSize, budget));
    if (rows.length === 0) break;
    budget -= rows.length;
    after = rows[rows.length - 1]?.id ?? after;
    const swaps: Swap[] = [];
    for (const row of rows) {
      if (!row.accessTokenEnc || !row.refreshTokenEnc) continue;
      const owner = { userId: row.userId, connectionId: row.id };
      try {
        const [access, refresh] = await Promise.all([
          keyring.rewrap(row.accessTokenEnc, { ...owner, field: FIELDS.access }),
          keyring.rewrap(row.refreshTokenEnc, { ...owner, field: FIELDS.refresh }),
        ]);
        swaps.push(
          swapCredentials(
            db,
            row.id,
            { access: row.accessTokenEnc, refresh: row.refreshTokenEnc },
            { access, refresh, keyId: keyring.activeKeyId },
          ),
        );
      } catch (err) {
        failed("connections", row.id, err);
      }
    }
    report.connections += await run(db, swaps);
  }

  after = "";
  while (budget > 0) {
    const rows = await statesUnderOldKeys(db, keyring.activeKeyId, after, Math.min(limits.batchSize, budget));
    if (rows.length === 0) break;
    budget -= rows.length;
    after = rows[rows.length - 1]?.stateHash ?? after;
    const swaps: Swap[] = [];
    for (const row of rows) {
      try {
        const wrapped = await keyring.rewrap(row.codeVerifierEnc, {
          userId: row.userId,
          connectionId: row.connectionId,
          field: verifierField(row.stateHash),
        });
        swaps.push(swapStateVerifier(db, row.stateHash, row.codeVerifierEnc, wrapped, keyring.activeKeyId));
      } catch (err) {
        failed("oauth_states", row.stateHash.slice(0, 12), err);
      }
    }
    report.oauth_states += await run(db, swaps);
  }

  after = "";
  while (budget > 0) {
    const rows = await mfaSecretsUnderOldKeys(db, keyring.activeKeyId, after, Math.min(limits.batchSize, budget));
    if (rows.length === 0) break;
    budget -= rows.length;
    after = rows[rows.length - 1]?.id ?? after;
    const swaps: Swap[] = [];
    for (const row of rows) {
      if (!row.secretEnc) continue;
      try {
        const wrapped = await keyring.rewrap(row.secretEnc, secretContext(row.id));
        swaps.push(swapMfaSecret(db, row.id, row.secretEnc, wrapped));
      } catch (err) {
        failed("users.mfa_totp_secret_enc", row.id, err);
      }
    }
    report.mfa_secrets += await run(db, swaps);
  }

  report.remaining = budget <= 0;
  if (report.connections + report.oauth_states + report.mfa_secrets + report.failed > 0) {
    await insertAudit(db, {
      occurredAt: now,
      action: "credentials.rewrapped",
      outcome: report.failed > 0 ? "failure" : "success",
      details: { ...report },
    });
  }
  return report;
}
