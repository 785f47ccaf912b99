/**
 * The audit trail as the app reads it (src/db/audit.ts): each event with its personal fields
 * joined back from `audit_pii`. Use as `FROM ${AUDIT_LOG} WHERE …`.
 */
export const AUDIT_LOG = `(SELECT e.id, e.occurred_at, e.action, e.outcome, e.user_id, e.actor_id, e.session_id,
  e.request_id, e.method, e.path, coalesce(p.ip_address, e.ip_address) AS ip_address,
  coalesce(p.user_agent, e.user_agent) AS user_agent, coalesce(p.location, e.location) AS location, e.details
  FROM audit_events e LEFT JOIN audit_pii p ON p.event_id = e.id)`;
