CREATE TABLE `reconciliation_drifts` (
	`account_id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`provider` text NOT NULL,
	`currency` text NOT NULL,
	`difference` text NOT NULL,
	`since` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`connection_id`) REFERENCES `connections`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `reconciliation_drifts_since` ON `reconciliation_drifts` (`since`,`account_id`);--> statement-breakpoint
CREATE INDEX `reconciliation_drifts_connection` ON `reconciliation_drifts` (`connection_id`);