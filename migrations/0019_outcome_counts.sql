CREATE TABLE `outcome_counts` (
	`subject` text NOT NULL,
	`hour` integer NOT NULL,
	`ok` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`last_error_at` integer,
	PRIMARY KEY(`subject`, `hour`)
);
