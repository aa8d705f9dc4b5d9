CREATE TABLE `config_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`applied_hash` text,
	`applied_at` integer,
	`org_id` text,
	`env_id` text,
	`owners` text,
	`last_hash` text,
	`last_status` text,
	`last_issues` text,
	`last_attempt_at` integer
);
--> statement-breakpoint
ALTER TABLE `sources` ADD `declared_in` text;--> statement-breakpoint
ALTER TABLE `destinations` ADD `declared_in` text;--> statement-breakpoint
ALTER TABLE `connections` ADD `declared_in` text;