-- Lockout events used to copy the client key (the IP address, or an IPv6 /64) into `details`,
-- which deletion cannot erase (audit_events is append-only). Since then it lives only in the
-- erasable request context (audit_pii, migration 0011); this removes it from earlier rows. The
-- guard is lifted for this one rewrite of `details` and put back as it was (migration 0001).
DROP TRIGGER `audit_events_no_update`;
--> statement-breakpoint
UPDATE `audit_events` SET `details` = json_remove(`details`, '$.client')
WHERE `action` = 'auth.lockout' AND json_extract(`details`, '$.client') IS NOT NULL;
--> statement-breakpoint
CREATE TRIGGER `audit_events_no_update` BEFORE UPDATE ON `audit_events`
BEGIN
  SELECT RAISE(ABORT, 'audit_events is append-only');
END;
