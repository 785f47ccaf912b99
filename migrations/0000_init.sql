CREATE TABLE `audit_events` (
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
CREATE INDEX `audit_events_user_time` ON `audit_events` (`user_id`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `audit_events_action_time` ON `audit_events` (`action`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `audit_events_time` ON `audit_events` (`occurred_at`);