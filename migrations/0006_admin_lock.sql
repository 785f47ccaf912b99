ALTER TABLE `users` ADD `disabled_at` integer;--> statement-breakpoint
-- Before this, an administrator's lock was locked_until = 9999-12-31T23:59:59Z; keep those locks.
UPDATE `users` SET `disabled_at` = `updated_at` WHERE `locked_until` >= 253402300799000;
