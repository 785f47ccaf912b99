ALTER TABLE `oauth_states` ADD `return_to` text;--> statement-breakpoint
ALTER TABLE `oauth_states` ADD `opener_origin` text;