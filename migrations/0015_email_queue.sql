CREATE TABLE `email_dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`email_id` text NOT NULL,
	`kind` text NOT NULL,
	`recipient_hash` text NOT NULL,
	`attempts` integer NOT NULL,
	`error_code` text NOT NULL,
	`error_message` text NOT NULL,
	`sealed` text,
	`requested_at` integer NOT NULL,
	`dead_lettered_at` integer NOT NULL,
	`replayed_at` integer,
	`replay_email_id` text,
	`replayed_by` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `email_dead_letters_email` ON `email_dead_letters` (`email_id`);--> statement-breakpoint
CREATE INDEX `email_dead_letters_time` ON `email_dead_letters` (`dead_lettered_at`);--> statement-breakpoint
CREATE TABLE `email_pending` (
	`id` text PRIMARY KEY NOT NULL,
	`idempotency_key` text NOT NULL,
	`kind` text NOT NULL,
	`recipient_hash` text NOT NULL,
	`sealed` text NOT NULL,
	`requested_at` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `email_pending_time` ON `email_pending` (`created_at`,`id`);--> statement-breakpoint
ALTER TABLE `outbox_messages` ADD `idempotency_key` text;--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_idempotency_key` ON `outbox_messages` (`idempotency_key`);--> statement-breakpoint
-- An email dead letter is replayed once: the replay's batch (mark, pending email, audit row)
-- fails as a whole when another replay got there first (src/services/email/dead-letters.ts).
CREATE TRIGGER `email_dead_letters_replay_once` BEFORE UPDATE OF `replayed_at` ON `email_dead_letters`
WHEN OLD.`replayed_at` IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'email dead letter already replayed');
END;
