/** Live events pushed to a user's open WebSockets (docs/contract.md "Live events"). */
export type LiveEventType =
  | "sync.started"
  | "sync.succeeded"
  | "sync.failed"
  | "sync.deferred"
  | "connection.reauth_required"
  | "connection.consent_expiring"
  | "connection.relinked"
  | "account.reconciliation"
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

/**
 * WebSocket close code (private range 4000–4999, RFC 6455 §7.4.2) when the token a socket opened
 * with stops counting: its session was revoked, the user's tokens were rotated, or it expired.
 * The close reason says which; clients reconnect with a fresh access token.
 */
export const CLOSE_SESSION_ENDED = 4001;

/** Subprotocols: clients offer `ledgerlink.events` and `bearer.<access token>` (browsers cannot set headers). */
export const EVENTS_PROTOCOL = "ledgerlink.events";
