/** What travels on the sync queues. Parsed, never trusted: a bad body is logged and dropped. */
import { z } from "zod";
import { TRACE_ID } from "../trace";
import { SYNC_TRIGGERS } from "./ledger/rows";

/** One sync run of one connection (queue `ledgerlink-sync`). */
export const SyncMessageSchema = z.object({
  v: z.literal(1),
  run_id: z.string().min(1).max(100),
  connection_id: z.string().min(1).max(100),
  trigger: z.enum(SYNC_TRIGGERS),
  /** The run's idempotency key (logged; the run row enforces it). */
  idempotency_key: z.string().min(1).max(300),
  /** The W3C trace id that queued it (src/trace.ts); absent on messages older than traces. */
  trace_id: z.string().regex(TRACE_ID).optional(),
});
export type SyncMessage = z.infer<typeof SyncMessageSchema>;

/**
 * One slice of the scheduler's sweep (queue `ledgerlink-sync`): queue runs for the connections
 * due at `due_at` whose ids lie in (`after`, `to`). A sweep that runs out of budget sends its
 * own continuation, so the work per tick grows with the number of due connections.
 */
export const SweepMessageSchema = z.object({
  v: z.literal(1),
  kind: z.literal("sweep"),
  after: z.string().max(100),
  to: z.string().max(100).nullable(),
  due_at: z.number().int(),
  trace_id: z.string().regex(TRACE_ID).optional(),
});
export type SweepMessage = z.infer<typeof SweepMessageSchema>;

/**
 * A run that used up its attempts (queue `ledgerlink-sync-dlq`). `error` is set when the
 * consumer forwarded it; a message Queues moved there itself (a consumer that crashed on every
 * delivery) has none.
 */
export const DeadLetterMessageSchema = SyncMessageSchema.extend({
  error: z.object({ code: z.string().max(100), message: z.string().max(500) }).optional(),
  attempts: z.number().int().min(0).optional(),
});
export type DeadLetterMessage = z.infer<typeof DeadLetterMessageSchema>;

/**
 * What a user's home found on its alarm and the directory's audit trail must record (the home
 * writes no D1 itself): runs it failed as lost, pending transactions that never posted. Sent on
 * the sync queue; its consumer writes the audit rows (src/services/sync/home-report.ts).
 */
export const HomeReportMessageSchema = z.object({
  v: z.literal(1),
  kind: z.literal("home_report"),
  user_id: z.string().min(1).max(100),
  at: z.number().int(),
  lost_runs: z.array(z.object({ id: z.string(), connection_id: z.string() })).max(100),
  unposted: z
    .array(
      z.object({
        connection_id: z.string(),
        count: z.number().int(),
        transaction_ids: z.array(z.string()).max(20),
        oldest_date: z.string().nullable(),
      }),
    )
    .max(100),
});
export type HomeReportMessage = z.infer<typeof HomeReportMessageSchema>;

/** Queue names, as in wrangler.toml; `queue()` dispatches on them. */
export const QUEUES = { sync: "ledgerlink-sync", deadLetters: "ledgerlink-sync-dlq" } as const;
