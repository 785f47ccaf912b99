CREATE TABLE `institutions` (
	`provider` text NOT NULL,
	`id` text NOT NULL,
	`name` text NOT NULL,
	`bic` text,
	`countries` text NOT NULL,
	`transaction_total_days` integer,
	`max_access_valid_for_days` integer,
	`logo` text,
	`fetched_at` integer NOT NULL,
	PRIMARY KEY(`provider`, `id`)
);
--> statement-breakpoint
CREATE INDEX `institutions_name` ON `institutions` (`provider`,`name`);--> statement-breakpoint
CREATE TABLE `provider_app_tokens` (
	`provider` text PRIMARY KEY NOT NULL,
	`access_enc` text,
	`access_expires_at` integer,
	`refresh_enc` text,
	`refresh_expires_at` integer,
	`key_id` text,
	`lease_owner` text,
	`lease_until` integer,
	`updated_at` integer DEFAULT (unixepoch() * 1000) NOT NULL
);
--> statement-breakpoint
ALTER TABLE `connections` ADD `institution_id` text;--> statement-breakpoint
ALTER TABLE `connections` ADD `consent_expires_at` integer;--> statement-breakpoint
ALTER TABLE `connections` ADD `consent_warned_at` integer;--> statement-breakpoint
ALTER TABLE `connections` ADD `provider_warnings` text;--> statement-breakpoint
CREATE INDEX `connections_consent_expiry` ON `connections` (`status`,`consent_expires_at`);