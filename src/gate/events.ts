/** Live events pushed to a user's open WebSockets (API.md `GET /api/v1/events`). */
export type LiveEventType =
  | "sync.started"
  | "sync.succeeded"
  | "sync.failed"
  | "connection.reauth_required"
  | "session.revoked";

export interface LiveEvent {
  type: LiveEventType;
  /** RFC 3339 UTC. */
  at: string;
  data: Record<string, unknown>;
}

export const liveEvent = (type: LiveEventType, data: Record<string, unknown>, at = new Date()): LiveEvent => ({
  type,
  at: at.toISOString(),
  data,
});

/** WebSocket close code for a session that was revoked (private range 4000–4999, RFC 6455 §7.4.2). */
export const CLOSE_SESSION_REVOKED = 4001;

/** Subprotocols: clients offer `ledgerlink.events` and `bearer.<access token>` (browsers cannot set headers). */
export const EVENTS_PROTOCOL = "ledgerlink.events";
