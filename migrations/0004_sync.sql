CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`provider_account_id` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`mask` text NOT NULL,
	`currency` text NOT NULL,
	`balance_current` text,
	`balance_available` text,
	`balances_as_of` integer NOT NULL,
	`missing_since` integer,
	`created_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`connection_id`) REFERENCES `connections`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_provider` ON `accounts` (`connection_id`,`provider_account_id`);--> statement-breakpoint
CREATE INDEX `accounts_user` ON `accounts` (`user_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `change_feed_counter` (
	`id` integer PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `holdings` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`account_id` text NOT NULL,
	`provider_holding_id` text NOT NULL,
	`symbol` text,
	`name` text,
	`asset_type` text NOT NULL,
	`quantity` text NOT NULL,
	`price` text,
	`market_value` text,
	`currency` text NOT NULL,
	`as_of` integer NOT NULL,
	`created_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `holdings_provider` ON `holdings` (`account_id`,`provider_holding_id`);--> statement-breakpoint
CREATE TABLE `sync_dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`user_id` text NOT NULL,
	`trigger` text NOT NULL,
	`attempts` integer NOT NULL,
	`error_code` text NOT NULL,
	`error_message` text NOT NULL,
	`dead_lettered_at` integer NOT NULL,
	`replayed_at` integer,
	`replay_run_id` text,
	`replayed_by` text,
	FOREIGN KEY (`connection_id`) REFERENCES `connections`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sync_dead_letters_run` ON `sync_dead_letters` (`run_id`);--> statement-breakpoint
CREATE INDEX `sync_dead_letters_time` ON `sync_dead_letters` (`dead_lettered_at`);--> statement-breakpoint
CREATE TABLE `sync_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`connection_id` text NOT NULL,
	`user_id` text NOT NULL,
	`trigger` text NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`idempotency_key` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`queued_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`next_attempt_at` integer,
	`stats` text,
	`error_code` text,
	`error_message` text,
	FOREIGN KEY (`connection_id`) REFERENCES `connections`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sync_runs_idempotency` ON `sync_runs` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `sync_runs_connection` ON `sync_runs` (`connection_id`,`queued_at`);--> statement-breakpoint
CREATE INDEX `sync_runs_status` ON `sync_runs` (`status`,`queued_at`);--> statement-breakpoint
CREATE TABLE `transaction_removals` (
	`seq` integer PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`transaction_id` text NOT NULL,
	`account_id` text NOT NULL,
	`reason` text NOT NULL,
	`removed_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `transaction_removals_feed` ON `transaction_removals` (`user_id`,`seq`);--> statement-breakpoint
CREATE TABLE `transactions` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`account_id` text NOT NULL,
	`provider_transaction_id` text NOT NULL,
	`status` text NOT NULL,
	`type` text NOT NULL,
	`description` text NOT NULL,
	`amount` text NOT NULL,
	`currency` text NOT NULL,
	`symbol` text,
	`quantity` text,
	`price` text,
	`date` integer NOT NULL,
	`pending_transaction_id` text,
	`stale_reported_at` integer,
	`created_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	`created_seq` integer NOT NULL,
	`change_seq` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `transactions_provider` ON `transactions` (`account_id`,`provider_transaction_id`);--> statement-breakpoint
CREATE INDEX `transactions_account_date` ON `transactions` (`account_id`,`date`,`id`);--> statement-breakpoint
CREATE INDEX `transactions_feed` ON `transactions` (`user_id`,`change_seq`);--> statement-breakpoint
CREATE INDEX `transactions_pending` ON `transactions` (`date`) WHERE "transactions"."status" = 'pending';--> statement-breakpoint
ALTER TABLE `connections` ADD `sync_lock_owner` text;--> statement-breakpoint
ALTER TABLE `connections` ADD `sync_lock_until` integer;--> statement-breakpoint
ALTER TABLE `connections` ADD `last_sync_requested_at` integer;--> statement-breakpoint
ALTER TABLE `connections` ADD `stale_reported_at` integer;--> statement-breakpoint
CREATE INDEX `connections_due` ON `connections` (`status`,`next_sync_at`);