CREATE TABLE `audit_inbox` (
	`id` text PRIMARY KEY NOT NULL,
	`occurred_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	`action` text NOT NULL,
	`outcome` text NOT NULL,
	`user_id` text,
	`actor_id` text,
	`session_id` text,
	`request_id` text,
	`method` text,
	`path` text,
	`ip_address` text,
	`user_agent` text,
	`location` text,
	`details` text
);
--> statement-breakpoint
CREATE TABLE `audit_pii` (
	`event_id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`ip_address` text,
	`user_agent` text,
	`location` text,
	FOREIGN KEY (`event_id`) REFERENCES `audit_events`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `audit_pii_owner` ON `audit_pii` (`owner_id`);--> statement-breakpoint
-- The app writes audit events into audit_inbox; this moves each one into the trail at once.
-- The IP address, user agent and location of an event belong to whoever made the request: the
-- actor, else the user (its owner). While the owner exists they sit in audit_pii, which the
-- owner's deletion erases by cascade, and audit_events stays append-only. An event with no
-- owner (an unknown email's failed login) keeps them in audit_events; an event whose owner is
-- already gone keeps none.
CREATE TRIGGER `audit_inbox_to_trail` AFTER INSERT ON `audit_inbox`
BEGIN
  INSERT INTO `audit_events` (`id`, `occurred_at`, `action`, `outcome`, `user_id`, `actor_id`, `session_id`,
    `request_id`, `method`, `path`, `ip_address`, `user_agent`, `location`, `details`)
  VALUES (NEW.`id`, NEW.`occurred_at`, NEW.`action`, NEW.`outcome`, NEW.`user_id`, NEW.`actor_id`, NEW.`session_id`,
    NEW.`request_id`, NEW.`method`, NEW.`path`,
    CASE WHEN coalesce(NEW.`actor_id`, NEW.`user_id`) IS NULL THEN NEW.`ip_address` END,
    CASE WHEN coalesce(NEW.`actor_id`, NEW.`user_id`) IS NULL THEN NEW.`user_agent` END,
    CASE WHEN coalesce(NEW.`actor_id`, NEW.`user_id`) IS NULL THEN NEW.`location` END,
    NEW.`details`);
  INSERT INTO `audit_pii` (`event_id`, `owner_id`, `ip_address`, `user_agent`, `location`)
  SELECT NEW.`id`, `id`, NEW.`ip_address`, NEW.`user_agent`, NEW.`location` FROM `users`
  WHERE `id` = coalesce(NEW.`actor_id`, NEW.`user_id`)
    AND coalesce(NEW.`ip_address`, NEW.`user_agent`, NEW.`location`) IS NOT NULL;
  DELETE FROM `audit_inbox` WHERE `id` = NEW.`id`;
END;
--> statement-breakpoint
-- Events written before this migration: move the personal fields of events whose owner exists
-- out, and erase those whose owner is already deleted. The append-only guard is lifted for this
-- one rewrite of three columns (no row is removed) and put back as it was (migration 0001).
DROP TRIGGER `audit_events_no_update`;
--> statement-breakpoint
INSERT INTO `audit_pii` (`event_id`, `owner_id`, `ip_address`, `user_agent`, `location`)
SELECT e.`id`, u.`id`, e.`ip_address`, e.`user_agent`, e.`location`
FROM `audit_events` e JOIN `users` u ON u.`id` = coalesce(e.`actor_id`, e.`user_id`)
WHERE coalesce(e.`ip_address`, e.`user_agent`, e.`location`) IS NOT NULL;
--> statement-breakpoint
UPDATE `audit_events` SET `ip_address` = NULL, `user_agent` = NULL, `location` = NULL
WHERE coalesce(`actor_id`, `user_id`) IS NOT NULL AND coalesce(`ip_address`, `user_agent`, `location`) IS NOT NULL;
--> statement-breakpoint
CREATE TRIGGER `audit_events_no_update` BEFORE UPDATE ON `audit_events`
BEGIN
  SELECT RAISE(ABORT, 'audit_events is append-only');
END;
