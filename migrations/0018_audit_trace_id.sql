ALTER TABLE `audit_events` ADD `trace_id` text;--> statement-breakpoint
CREATE INDEX `audit_events_trace` ON `audit_events` (`trace_id`) WHERE "audit_events"."trace_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE `audit_inbox` ADD `trace_id` text;--> statement-breakpoint
-- The inbox trigger of migration 0011, now also moving the trace id into the trail.
DROP TRIGGER `audit_inbox_to_trail`;
--> statement-breakpoint
CREATE TRIGGER `audit_inbox_to_trail` AFTER INSERT ON `audit_inbox`
BEGIN
  INSERT INTO `audit_events` (`id`, `occurred_at`, `action`, `outcome`, `user_id`, `actor_id`, `session_id`,
    `request_id`, `trace_id`, `method`, `path`, `ip_address`, `user_agent`, `location`, `details`)
  VALUES (NEW.`id`, NEW.`occurred_at`, NEW.`action`, NEW.`outcome`, NEW.`user_id`, NEW.`actor_id`, NEW.`session_id`,
    NEW.`request_id`, NEW.`trace_id`, NEW.`method`, NEW.`path`,
    CASE WHEN coalesce(NEW.`actor_id`, NEW.`user_id`) IS NULL THEN NEW.`ip_address` END,
    CASE WHEN coalesce(NEW.`actor_id`, NEW.`user_id`) IS NULL THEN NEW.`user_agent` END,
    CASE WHEN coalesce(NEW.`actor_id`, NEW.`user_id`) IS NULL THEN NEW.`location` END,
    NEW.`details`);
  INSERT INTO `audit_pii` (`event_id`, `owner_id`, `ip_address`, `user_agent`, `location`)
  SELECT NEW.`id`, `id`, NEW.`ip_address`, NEW.`user_agent`, NEW.`location` FROM `users`
  WHERE `id` = coalesce(NEW.`actor_id`, NEW.`user_id`)
    AND coalesce(NEW.`ip_address`, NEW.`user_agent`, NEW.`location`) IS NOT NULL;
  DELETE FROM `audit_inbox` WHERE `id` = NEW.`id`;
END;
