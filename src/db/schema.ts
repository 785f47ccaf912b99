import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Timestamps are UTC epoch milliseconds everywhere (`timestamp_ms`), so no naive local time can
 * enter the database (ARCHITECTURE.md §4 "Time"); the API renders them as RFC 3339 with `Z`.
 */
const utc = (name: string) => integer(name, { mode: "timestamp_ms" });
/** A UTC timestamp column that defaults to now (the app normally sets it from its clock). */
const stamp = (name: string) => utc(name).notNull().default(sql`(unixepoch() * 1000)`);

/** Append-only security and admin trail; UPDATE and DELETE are refused by triggers (migration 0001). */
export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: text("id").primaryKey(),
    occurredAt: stamp("occurred_at"),
    action: text("action").notNull(),
    outcome: text("outcome", { enum: ["success", "failure", "denied"] }).notNull(),
    userId: text("user_id"),
    actorId: text("actor_id"),
    sessionId: text("session_id"),
    requestId: text("request_id"),
    method: text("method"),
    path: text("path"),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    location: text("location", { mode: "json" }).$type<{
      country: string | null;
      region: string | null;
      city: string | null;
    } | null>(),
    details: text("details", { mode: "json" }).$type<Record<string, unknown>>(),
  },
  (t) => [
    index("audit_events_user_time").on(t.userId, t.occurredAt),
    index("audit_events_action_time").on(t.action, t.occurredAt),
    index("audit_events_time").on(t.occurredAt),
  ],
);
