import { z } from "@hono/zod-openapi";

/** How a sync run was started. */
export const SYNC_TRIGGERS = ["scheduled", "manual", "replay"] as const;
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];

/**
 * Sync run lifecycle: `queued` → `running` → `succeeded` | `failed` | `skipped`, with `retrying`
 * between attempts; a run that used up its attempts ends `dead_lettered`.
 */
export const SYNC_RUN_STATUSES = [
  "queued",
  "running",
  "retrying",
  "succeeded",
  "failed",
  "dead_lettered",
  "skipped",
] as const;
export type SyncRunStatus = (typeof SYNC_RUN_STATUSES)[number];

const dateTime = () => z.string().openapi({ format: "date-time" });
const count = () => z.number().int();

export const SyncStats = z
  .object({
    accounts_added: count(),
    accounts_updated: count(),
    accounts_missing: count().openapi({ description: "Accounts the provider stopped listing (kept, flagged)." }),
    accounts_relinked: count().openapi({
      description:
        "Accounts another of your connections to the same provider had brought, moved to this one with their history (a relink); a connection left without accounts is retired.",
    }),
    holdings_upserted: count(),
    holdings_removed: count(),
    transactions_added: count(),
    transactions_modified: count(),
    transactions_removed: count().openapi({ description: "Pending transactions replaced by their posted form." }),
    transactions_fetched: count().openapi({ description: "Items the provider returned for the run's windows." }),
    rows_written: count().openapi({
      description:
        "Rows the run wrote to the user's ledger (its home object's SQLite). Re-syncing unchanged data writes 0.",
    }),
    duration_ms: count(),
  })
  .openapi("SyncStats");

export const SyncRun = z
  .object({
    id: z.string(),
    connection_id: z.string(),
    trigger: z
      .enum(SYNC_TRIGGERS)
      .openapi({ description: "`scheduled` (cron), `manual` (POST …/sync) or `replay` (admin)." }),
    status: z.enum(SYNC_RUN_STATUSES).openapi({
      description:
        "`queued` → `running` → `succeeded` | `failed` | `skipped`; `retrying` between attempts (and until the dead-letter queue records a run that used up its attempts, then `dead_lettered`).",
    }),
    attempts: count(),
    queued_at: dateTime(),
    started_at: dateTime().nullable(),
    finished_at: dateTime().nullable(),
    next_attempt_at: dateTime().nullable().openapi({
      description: "While `retrying`: when the next attempt is due (backoff or the provider's Retry-After).",
    }),
    stats: SyncStats.nullable().openapi({ description: "Set when the run succeeded." }),
    error: z.object({ code: z.string(), message: z.string() }).nullable().openapi({
      description:
        "The last failure: `reauth_required`, `provider_unavailable`, `provider_rate_limited`, `provider_payment_required`, `provider_error`, `provider_empty_answer`, `internal_error`; for skipped runs `sync_disabled`, `sync_in_progress`, `cooldown`, `connection_not_ready`, `provider_quota_exhausted` (the connection's share of the provider's calls is spent), `provider_rate_limited` (the provider's own 429: deferred, not failed).",
    }),
    trace_id: z.string().nullable().openapi({
      description:
        "The W3C trace that queued the run (the request's `traceparent`, or the cron tick's): every log line and audit row of the run carries it.",
    }),
  })
  .openapi("SyncRun");

export const SyncQueued = z.object({
  sync: z.object({
    id: z.string(),
    status: z.enum(SYNC_RUN_STATUSES).openapi({ example: "queued" }),
  }),
});

export const DeadLetter = z
  .object({
    id: z.string(),
    run_id: z.string(),
    connection_id: z.string(),
    user_id: z.string(),
    trigger: z.enum(SYNC_TRIGGERS),
    attempts: count(),
    error: z.object({ code: z.string(), message: z.string() }),
    dead_lettered_at: dateTime(),
    replayed_at: dateTime().nullable(),
    replay_run_id: z.string().nullable(),
    replayed_by: z.string().nullable().openapi({ description: "The administrator who replayed it." }),
  })
  .openapi("DeadLetter");
