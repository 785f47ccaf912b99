-- Each user's ledger moved into their home Durable Object (docs/design.md "Where data lives").
-- Rows here are not copied over: the next sync of each connection fills its home again.
-- Children before parents, so no cascade runs over rows about to go.
DROP TABLE `transaction_removals`;--> statement-breakpoint
DROP TABLE `transactions`;--> statement-breakpoint
DROP TABLE `holdings`;--> statement-breakpoint
DROP TABLE `accounts`;--> statement-breakpoint
DROP TABLE `change_feed_counter`;--> statement-breakpoint
DROP TABLE `sync_runs`;
