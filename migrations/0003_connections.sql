CREATE TABLE `connections` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`provider` text NOT NULL,
	`alias` text,
	`status` text DEFAULT 'pending' NOT NULL,
	`created_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	`last_synced_at` integer,
	`next_sync_at` integer,
	`last_error_code` text,
	`last_error_message` text,
	`last_error_at` integer,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`cooldown_until` integer,
	`access_token_enc` text,
	`refresh_token_enc` text,
	`credentials_key_id` text,
	`access_token_expires_at` integer,
	`refresh_token_expires_at` integer,
	`credentials_updated_at` integer,
	`reauth_warned_at` integer,
	`refresh_lock_until` integer,
	`refresh_lock_owner` text,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `connections_user` ON `connections` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `connections_key` ON `connections` (`credentials_key_id`);--> statement-breakpoint
CREATE INDEX `connections_refresh_expiry` ON `connections` (`status`,`refresh_token_expires_at`);--> statement-breakpoint
CREATE TABLE `oauth_states` (
	`state_hash` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`provider` text NOT NULL,
	`purpose` text NOT NULL,
	`code_verifier_enc` text NOT NULL,
	`key_id` text NOT NULL,
	`redirect_uri` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`connection_id`) REFERENCES `connections`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `oauth_states_connection` ON `oauth_states` (`connection_id`);--> statement-breakpoint
CREATE INDEX `oauth_states_expiry` ON `oauth_states` (`expires_at`);--> statement-breakpoint
CREATE INDEX `oauth_states_key` ON `oauth_states` (`key_id`);