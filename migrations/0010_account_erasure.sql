CREATE TABLE `pending_erasures` (
	`user_id` text PRIMARY KEY NOT NULL,
	`requested_at` integer NOT NULL
);
