import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { EMAIL_KINDS } from "../email/kinds";
import { SYNC_TRIGGERS } from "../wire/sync";

/**
 * Timestamps are UTC epoch milliseconds everywhere (`timestamp_ms`), so no naive local time can
 * enter the database (docs/design.md "Time"); the API renders them as RFC 3339 with `Z`.
 */
const utc = (name: string) => integer(name, { mode: "timestamp_ms" });
/** A UTC timestamp column that defaults to now (the app normally sets it from its clock). */
const stamp = (name: string) => utc(name).notNull().default(sql`(unixepoch() * 1000)`);

/** The columns of an audit event: of the trail, and of the inbox the app writes it through. */
export const auditColumns = () => ({
  id: text("id").primaryKey(),
  occurredAt: stamp("occurred_at"),
  action: text("action").notNull(),
  outcome: text("outcome", { enum: ["success", "failure", "denied"] }).notNull(),
  userId: text("user_id"),
  actorId: text("actor_id"),
  sessionId: text("session_id"),
  requestId: text("request_id"),
  /** The W3C trace the event happened in (src/trace.ts): a request's, or a job's run. */
  traceId: text("trace_id"),
  method: text("method"),
  path: text("path"),
  ipAddress: text("ip_address"),
  userAgent: text("user_agent"),
  location: text("location", { mode: "json" }).$type<Location | null>(),
  details: text("details", { mode: "json" }).$type<Record<string, unknown>>(),
});

/**
 * Append-only security and admin trail; UPDATE and DELETE are refused by triggers (migration 0001).
 * A user's events keep their IP address, user agent and location in `audit_pii` instead (below).
 */
export const auditEvents = sqliteTable("audit_events", auditColumns(), (t) => [
  index("audit_events_user_time").on(t.userId, t.occurredAt),
  index("audit_events_action_time").on(t.action, t.occurredAt),
  index("audit_events_time").on(t.occurredAt),
  // Partial: most rows have one, and a search by trace must not scan the trail.
  index("audit_events_trace").on(t.traceId).where(sql`${t.traceId} IS NOT NULL`),
]);

/**
 * The personal part of audit events (IP address, user agent, location), kept apart so that
 * deleting its owner erases it by cascade while `audit_events` stays append-only. The owner is
 * the person who made the request: the actor (an administrator acting on someone), else the
 * user. Writes go through `audit_inbox` (below); reads join them back (src/db/audit.ts).
 */
export const auditPii = sqliteTable(
  "audit_pii",
  {
    eventId: text("event_id")
      .primaryKey()
      .references(() => auditEvents.id),
    ownerId: text("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    location: text("location", { mode: "json" }).$type<Location | null>(),
  },
  (t) => [index("audit_pii_owner").on(t.ownerId)],
);

/**
 * Where the app writes audit events: a trigger (migration 0011) moves each row at once into
 * `audit_events`, its personal fields into `audit_pii` when their owner exists, and deletes it
 * here, so one event stays one statement in any batch. Always empty between statements. (A view
 * with an INSTEAD OF trigger would do the same, but `wrangler d1 export` writes views after the
 * triggers that name them, and such a dump does not import.)
 */
export const auditInbox = sqliteTable("audit_inbox", auditColumns());

export type Location = { country: string | null; region: string | null; city: string | null };

/** Accounts. `email` is stored normalised (trimmed, lower-case) and is unique. */
export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    /** PHC-style string with its parameters, e.g. `$scrypt$ln=14,r=8,p=5$salt$hash`. */
    passwordHash: text("password_hash").notNull(),
    emailVerifiedAt: utc("email_verified_at"),
    role: text("role", { enum: ["user", "admin"] })
      .notNull()
      .default("user"),
    /** Bumped by password change/reset and admin rotation; older tokens stop working. */
    tokenVersion: integer("token_version").notNull().default(0),
    /**
     * An administrator's lock (docs/contract.md "Administration"): login answers 403 `account_disabled`
     * until an administrator lifts it. Apart from the failed-login lockout, which is per client
     * and lives in the address's Limiter; a password reset lifts neither.
     */
    disabledAt: utc("disabled_at"),
    mfaEnabled: integer("mfa_enabled", { mode: "boolean" }).notNull().default(false),
    /**
     * TOTP secret (base32), keyring ciphertext bound to (user, "mfa", "totp_secret"). Pending while
     * `mfa_enabled` is false (set up but not yet confirmed with a code); never stored in plaintext.
     */
    mfaTotpSecretEnc: text("mfa_totp_secret_enc"),
    /** The last TOTP time step accepted, so a code cannot be used twice. */
    mfaTotpLastStep: integer("mfa_totp_last_step"),
    createdAt: stamp("created_at"),
    updatedAt: stamp("updated_at"),
  },
  (t) => [uniqueIndex("users_email").on(t.email)],
);

/** One login on one device. Revocation is a timestamp so the history stays readable. */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: stamp("created_at"),
    lastActiveAt: stamp("last_active_at"),
    /** Absolute expiry: refreshing never extends it. */
    expiresAt: utc("expires_at").notNull(),
    revokedAt: utc("revoked_at"),
    revokedReason: text("revoked_reason"),
    /** The user's token version when this session last received tokens. */
    tokenVersion: integer("token_version").notNull(),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    location: text("location", { mode: "json" }).$type<Location | null>(),
  },
  (t) => [index("sessions_user").on(t.userId, t.createdAt)],
);

/**
 * Refresh tokens, stored only as SHA-256 (primary key: an indexed lookup, never a scan). A row
 * whose `rotatedAt` is set has been exchanged for `successorHash`.
 */
export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    issuedAt: stamp("issued_at"),
    rotatedAt: utc("rotated_at"),
    successorHash: text("successor_hash"),
  },
  (t) => [index("refresh_tokens_session").on(t.sessionId)],
);

/** Single-use emailed tokens (verification, password reset, email change), stored as SHA-256. */
export const emailTokens = sqliteTable(
  "email_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose", { enum: ["verify_email", "reset_password", "change_email"] }).notNull(),
    /** For `change_email`: the address that replaces the current one once verified. */
    newEmail: text("new_email"),
    createdAt: stamp("created_at"),
    expiresAt: utc("expires_at").notNull(),
    usedAt: utc("used_at"),
  },
  (t) => [index("email_tokens_user").on(t.userId, t.purpose), index("email_tokens_expiry").on(t.expiresAt)],
);

/** Single-use MFA backup codes, stored only as SHA-256 of the normalised code. */
export const mfaBackupCodes = sqliteTable(
  "mfa_backup_codes",
  {
    codeHash: text("code_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: stamp("created_at"),
    usedAt: utc("used_at"),
  },
  (t) => [index("mfa_backup_codes_user").on(t.userId)],
);

/** The second step of an MFA login: `mfa_token`s, stored as SHA-256, short-lived and single-use. */
export const mfaChallenges = sqliteTable(
  "mfa_challenges",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: stamp("created_at"),
    expiresAt: utc("expires_at").notNull(),
    usedAt: utc("used_at"),
  },
  (t) => [index("mfa_challenges_user").on(t.userId), index("mfa_challenges_expiry").on(t.expiresAt)],
);

/**
 * The development/test email outbox (what GET /api/v1/dev/outbox reads). Written by the email
 * queue's consumer; a redelivered message carries the same idempotency key and is stored once.
 */
export const outboxMessages = sqliteTable(
  "outbox_messages",
  {
    id: text("id").primaryKey(),
    to: text("to").notNull(),
    subject: text("subject").notNull(),
    text: text("text").notNull(),
    html: text("html").notNull(),
    createdAt: stamp("created_at"),
    /** The email's idempotency key (its queue message's); null only for rows older than the queue. */
    idempotencyKey: text("idempotency_key"),
  },
  (t) => [index("outbox_to_time").on(t.to, t.createdAt), uniqueIndex("outbox_idempotency_key").on(t.idempotencyKey)],
);

/**
 * Emails the queue could not take (a Queues outage): kept here, sealed, until the 5-minute cron
 * sends them again (src/services/email/pending.ts). Also the outbox of an administrator's replay,
 * written in one batch with it. Emails carry single-use links, so the message is only ever keyring
 * ciphertext bound to its id (src/email/seal.ts), and the address only its SHA-256.
 */
export const emailPending = sqliteTable(
  "email_pending",
  {
    /** The email's id (its queue message's; the AAD of `sealed`). */
    id: text("id").primaryKey(),
    idempotencyKey: text("idempotency_key").notNull(),
    kind: text("kind", { enum: EMAIL_KINDS }).notNull(),
    /** SHA-256 (hex) of the trimmed, lower-cased address. */
    recipientHash: text("recipient_hash").notNull(),
    sealed: text("sealed").notNull(),
    /** When the email was asked for. */
    requestedAt: utc("requested_at").notNull(),
    createdAt: utc("created_at").notNull(),
  },
  (t) => [index("email_pending_time").on(t.createdAt, t.id)],
);

/** Connection lifecycle (docs/contract.md "Providers, connections and data"). */
export const CONNECTION_STATUSES = [
  "pending",
  "active",
  "syncing",
  "error",
  "reauth_required",
  "disconnected",
] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/** A provider's warning as a connection keeps it (the adapter's own text; never a raw body). */
export interface ProviderWarningView {
  code: string;
  message: string;
  /** The provider says a bank login needs the person's attention. */
  reauth: boolean;
}

/**
 * A user's link to one provider login. Credentials are stored only as keyring ciphertext
 * (src/crypto/keyring.ts) bound to (user, connection, field); `credentialsKeyId` repeats the key id
 * inside both values so the re-wrap job finds old rows by index instead of parsing every row.
 */
export const connections = sqliteTable(
  "connections",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    provider: text("provider").notNull(),
    alias: text("alias"),
    status: text("status", { enum: CONNECTION_STATUSES }).notNull().default("pending"),
    createdAt: stamp("created_at"),
    updatedAt: stamp("updated_at"),
    lastSyncedAt: utc("last_synced_at"),
    nextSyncAt: utc("next_sync_at"),
    lastErrorCode: text("last_error_code"),
    lastErrorMessage: text("last_error_message"),
    lastErrorAt: utc("last_error_at"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    cooldownUntil: utc("cooldown_until"),
    accessTokenEnc: text("access_token_enc"),
    refreshTokenEnc: text("refresh_token_enc"),
    credentialsKeyId: text("credentials_key_id"),
    accessTokenExpiresAt: utc("access_token_expires_at"),
    /** Schwab: 7 days after the login, never extended by refreshing. */
    refreshTokenExpiresAt: utc("refresh_token_expires_at"),
    /** When the credentials were last written (connect, re-auth or refresh). */
    credentialsUpdatedAt: utc("credentials_updated_at"),
    /** Set once the "refresh token expires soon" warning has been audited for these credentials. */
    reauthWarnedAt: utc("reauth_warned_at"),
    /** Refresh lease: one provider refresh per connection at a time (conditional UPDATE). */
    refreshLockUntil: utc("refresh_lock_until"),
    refreshLockOwner: text("refresh_lock_owner"),
    /** Sync lease: the run id holding it; one sync per connection at a time (conditional UPDATE). */
    syncLockOwner: text("sync_lock_owner"),
    syncLockUntil: utc("sync_lock_until"),
    /** When a sync run was last queued (any trigger): manual syncs wait 5 minutes after it. */
    lastSyncRequestedAt: utc("last_sync_requested_at"),
    /** Set when reconciliation reported the connection stale; cleared by the next success. */
    staleReportedAt: utc("stale_reported_at"),
    /** The bank a bank-consent connection was made at (GoCardless institution id). */
    institutionId: text("institution_id"),
    /** When the person's consent ends (GoCardless agreement; Schwab's 7-day login), if it does. */
    consentExpiresAt: utc("consent_expires_at"),
    /** Set once the person was told their consent is about to end (for this consent). */
    consentWarnedAt: utc("consent_warned_at"),
    /** What the provider reported beside good data on the last sync (JSON list of {code, message, reauth}). */
    providerWarnings: text("provider_warnings", { mode: "json" }).$type<ProviderWarningView[]>(),
  },
  (t) => [
    index("connections_user").on(t.userId, t.createdAt),
    index("connections_consent_expiry").on(t.status, t.consentExpiresAt),
    index("connections_key").on(t.credentialsKeyId),
    index("connections_refresh_expiry").on(t.status, t.refreshTokenExpiresAt),
    index("connections_due").on(t.status, t.nextSyncAt),
  ],
);

/**
 * OAuth authorization requests in flight (RFC 6749 §10.12 state, RFC 7636 PKCE). The state is
 * stored only as SHA-256; the code verifier is a secret, so it is keyring ciphertext.
 */
export const oauthStates = sqliteTable(
  "oauth_states",
  {
    stateHash: text("state_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    connectionId: text("connection_id")
      .notNull()
      .references(() => connections.id, { onDelete: "cascade" }),
    provider: text("provider").notNull(),
    purpose: text("purpose", { enum: ["connect", "reauthorize"] }).notNull(),
    /**
     * The flow's secret, sealed: the PKCE verifier (OAuth 2), or the requisition the person is
     * consenting to at their bank (bank consent), which becomes the connection's credential.
     */
    codeVerifierEnc: text("code_verifier_enc").notNull(),
    keyId: text("key_id").notNull(),
    redirectUri: text("redirect_uri").notNull(),
    /**
     * Where the GET callback hands `code` and `state` back to the app that started the flow: an
     * allow-listed `return_to` URL (redirect) or the web app's origin (postMessage to its
     * opener window). Never shown as text; the GET callback completes nothing itself.
     */
    returnTo: text("return_to"),
    openerOrigin: text("opener_origin"),
    /**
     * A bank consent's proof of the returning browser: SHA-256 (hex) of the secret half of the
     * requisition's reference (`<state>.<secret>`), which only the bank's redirect carries. The
     * initiator knows the state alone, so completing needs the browser that came back from the
     * bank (docs/security.md). Null for OAuth flows, whose code is that proof.
     */
    referenceHash: text("reference_hash"),
    createdAt: stamp("created_at"),
    expiresAt: utc("expires_at").notNull(),
    usedAt: utc("used_at"),
  },
  (t) => [
    index("oauth_states_connection").on(t.connectionId),
    index("oauth_states_expiry").on(t.expiresAt),
    index("oauth_states_key").on(t.keyId),
  ],
);

/** Runs that used up their attempts, as the dead-letter consumer recorded them (admin API). */
export const syncDeadLetters = sqliteTable(
  "sync_dead_letters",
  {
    id: text("id").primaryKey(),
    runId: text("run_id").notNull(),
    connectionId: text("connection_id")
      .notNull()
      .references(() => connections.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    trigger: text("trigger", { enum: SYNC_TRIGGERS }).notNull(),
    attempts: integer("attempts").notNull(),
    errorCode: text("error_code").notNull(),
    errorMessage: text("error_message").notNull(),
    deadLetteredAt: utc("dead_lettered_at").notNull(),
    replayedAt: utc("replayed_at"),
    replayRunId: text("replay_run_id"),
    replayedBy: text("replayed_by"),
  },
  (t) => [uniqueIndex("sync_dead_letters_run").on(t.runId), index("sync_dead_letters_time").on(t.deadLetteredAt)],
);

/**
 * Emails that used up their deliveries, or that the provider refused for good, as the email
 * dead-letter consumer recorded them (admin API). No address and no link: the recipient only as
 * SHA-256, the error as a code and a redacted message; the sealed message is kept (for a replay)
 * for 7 days, then purged by the hourly job.
 */
export const emailDeadLetters = sqliteTable(
  "email_dead_letters",
  {
    id: text("id").primaryKey(),
    /** The email's id: one dead letter per email (the dead-letter queue delivers at least once). */
    emailId: text("email_id").notNull(),
    kind: text("kind", { enum: EMAIL_KINDS }).notNull(),
    /** SHA-256 (hex) of the trimmed, lower-cased address (the name of its `email:` Limiter). */
    recipientHash: text("recipient_hash").notNull(),
    attempts: integer("attempts").notNull(),
    errorCode: text("error_code").notNull(),
    errorMessage: text("error_message").notNull(),
    /** The message as keyring ciphertext bound to `email_id`; null once purged. */
    sealed: text("sealed"),
    requestedAt: utc("requested_at").notNull(),
    deadLetteredAt: utc("dead_lettered_at").notNull(),
    /** Set once, by the one replay (a trigger refuses a second, migration 0015). */
    replayedAt: utc("replayed_at"),
    replayEmailId: text("replay_email_id"),
    replayedBy: text("replayed_by"),
  },
  (t) => [uniqueIndex("email_dead_letters_email").on(t.emailId), index("email_dead_letters_time").on(t.deadLetteredAt)],
);

/**
 * Homes still to erase: an account's D1 rows go in one batch with its row here, and the row
 * leaves once the user's home object is erased (at once, or by the hourly job if that failed).
 * No foreign key: the user row is already gone.
 */
export const pendingErasures = sqliteTable("pending_erasures", {
  userId: text("user_id").primaryKey(),
  requestedAt: utc("requested_at").notNull(),
  /** The deletion's audit row (JSON), written when the erasure completes, by whichever step completes it. */
  audit: text("audit"),
});

/**
 * App-level provider tokens kept in one place (GoCardless's token pair, minted from the
 * deployment's secret id and key): sealed with the keyring, renewed by one caller at a time under
 * a lease, so syncs never mint their own (GoCardless allows 100 mints an hour).
 */
export const providerAppTokens = sqliteTable("provider_app_tokens", {
  provider: text("provider").primaryKey(),
  accessEnc: text("access_enc"),
  accessExpiresAt: utc("access_expires_at"),
  refreshEnc: text("refresh_enc"),
  refreshExpiresAt: utc("refresh_expires_at"),
  keyId: text("key_id"),
  leaseOwner: text("lease_owner"),
  leaseUntil: utc("lease_until"),
  updatedAt: stamp("updated_at"),
});

/**
 * Banks a bank-consent provider offers (GoCardless's catalogue), fetched at most daily: searching
 * them never calls the provider.
 */
export const institutions = sqliteTable(
  "institutions",
  {
    provider: text("provider").notNull(),
    id: text("id").notNull(),
    name: text("name").notNull(),
    bic: text("bic"),
    countries: text("countries", { mode: "json" }).$type<string[]>().notNull(),
    /** How much history the bank gives (days), and the longest consent it allows. */
    transactionTotalDays: integer("transaction_total_days"),
    maxAccessValidForDays: integer("max_access_valid_for_days"),
    logo: text("logo"),
    fetchedAt: utc("fetched_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.id] }), index("institutions_name").on(t.provider, t.name)],
);

/**
 * Accounts in reconciliation drift, across users, for administrators (the accounts themselves
 * live in each user's home): written by the sync's outcome batch when an account drifts, deleted
 * when it agrees again, and with its connection or user.
 */
export const reconciliationDrifts = sqliteTable(
  "reconciliation_drifts",
  {
    accountId: text("account_id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    connectionId: text("connection_id")
      .notNull()
      .references(() => connections.id, { onDelete: "cascade" }),
    provider: text("provider").notNull(),
    currency: text("currency").notNull(),
    difference: text("difference").notNull(),
    since: utc("since").notNull(),
    updatedAt: utc("updated_at").notNull(),
  },
  (t) => [
    index("reconciliation_drifts_since").on(t.since, t.accountId),
    index("reconciliation_drifts_connection").on(t.connectionId),
  ],
);

/**
 * What readiness reports of the dependencies it must not call on every probe (the providers, the
 * email transport): outcomes per subject (`provider:<slug>`, `email`) per hour, counted by the
 * sync and the email consumer as they happen. Kept two days.
 */
export const outcomeCounts = sqliteTable(
  "outcome_counts",
  {
    subject: text("subject").notNull(),
    /** The hour's start, epoch ms. */
    hour: integer("hour").notNull(),
    ok: integer("ok").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    /** The class of the latest failure (a stable error code). */
    lastError: text("last_error"),
    lastErrorAt: utc("last_error_at"),
  },
  (t) => [primaryKey({ columns: [t.subject, t.hour] })],
);
