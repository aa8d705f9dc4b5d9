ALTER TABLE `destinations` ADD `rate_limit_per_second` integer;--> statement-breakpoint
ALTER TABLE `destinations` ADD `max_in_flight` integer DEFAULT 10 NOT NULL;--> statement-breakpoint
ALTER TABLE `destinations` ADD `ordered` integer DEFAULT false NOT NULL;