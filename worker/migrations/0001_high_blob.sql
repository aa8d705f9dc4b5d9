CREATE TABLE `dedup_keys` (
	`source_id` text NOT NULL,
	`key` text NOT NULL,
	`event_id` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`source_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX `dedup_keys_expiry_idx` ON `dedup_keys` (`expires_at`);--> statement-breakpoint
ALTER TABLE `destinations` ADD `rate_limit_per_second` integer;--> statement-breakpoint
ALTER TABLE `destinations` ADD `max_in_flight` integer DEFAULT 10 NOT NULL;--> statement-breakpoint
ALTER TABLE `destinations` ADD `ordered` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `events` ADD `event_type` text;