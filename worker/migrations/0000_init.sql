CREATE TABLE `organizations` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `environments` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `environments_org_idx` ON `environments` (`org_id`,`id`);--> statement-breakpoint
CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`env_id` text NOT NULL,
	`name` text NOT NULL,
	`key_hash` text NOT NULL,
	`prefix` text NOT NULL,
	`last4` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash_idx` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_env_idx` ON `api_keys` (`org_id`,`env_id`,`id`);--> statement-breakpoint
CREATE TABLE `sources` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`env_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`config` text DEFAULT '{}' NOT NULL,
	`secrets` text,
	`managed_by` text DEFAULT 'api' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sources_env_idx` ON `sources` (`org_id`,`env_id`,`id`);--> statement-breakpoint
CREATE TABLE `destinations` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`env_id` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`config` text DEFAULT '{}' NOT NULL,
	`secrets` text,
	`retry_policy` text NOT NULL,
	`circuit_breaker` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`managed_by` text DEFAULT 'api' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `destinations_env_idx` ON `destinations` (`org_id`,`env_id`,`id`);--> statement-breakpoint
CREATE TABLE `connections` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`env_id` text NOT NULL,
	`name` text,
	`source_id` text NOT NULL,
	`destination_id` text NOT NULL,
	`filters` text DEFAULT '[]' NOT NULL,
	`transform` text,
	`schema` text,
	`schema_mode` text DEFAULT 'reject' NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`managed_by` text DEFAULT 'api' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `connections_env_idx` ON `connections` (`org_id`,`env_id`,`id`);--> statement-breakpoint
CREATE INDEX `connections_source_idx` ON `connections` (`source_id`);--> statement-breakpoint
CREATE INDEX `connections_destination_idx` ON `connections` (`destination_id`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`env_id` text NOT NULL,
	`source_id` text NOT NULL,
	`method` text NOT NULL,
	`headers` text NOT NULL,
	`query` text NOT NULL,
	`body` text,
	`body_encoding` text DEFAULT 'utf8' NOT NULL,
	`body_r2_key` text,
	`body_size` integer NOT NULL,
	`content_type` text,
	`source_ip` text,
	`user_agent` text,
	`routing` text,
	`status` text NOT NULL,
	`received_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_env_idx` ON `events` (`org_id`,`env_id`,`id`);--> statement-breakpoint
CREATE INDEX `events_source_idx` ON `events` (`env_id`,`source_id`,`id`);--> statement-breakpoint
CREATE INDEX `events_status_idx` ON `events` (`env_id`,`status`,`id`);--> statement-breakpoint
CREATE TABLE `deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`env_id` text NOT NULL,
	`event_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`destination_id` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deliveries_event_idx` ON `deliveries` (`event_id`);--> statement-breakpoint
CREATE INDEX `deliveries_sweep_idx` ON `deliveries` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `deliveries_destination_idx` ON `deliveries` (`destination_id`,`id`);--> statement-breakpoint
CREATE TABLE `delivery_attempts` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`env_id` text NOT NULL,
	`event_id` text NOT NULL,
	`delivery_id` text NOT NULL,
	`destination_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`attempt_number` integer NOT NULL,
	`status` text NOT NULL,
	`status_code` integer,
	`latency_ms` integer NOT NULL,
	`response_body` text,
	`error` text,
	`validation_errors` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `attempts_event_idx` ON `delivery_attempts` (`event_id`,`id`);--> statement-breakpoint
CREATE INDEX `attempts_env_idx` ON `delivery_attempts` (`org_id`,`env_id`,`id`);--> statement-breakpoint
CREATE INDEX `attempts_destination_idx` ON `delivery_attempts` (`destination_id`,`id`);--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`env_id` text NOT NULL,
	`destination_id` text NOT NULL,
	`delivery_id` text NOT NULL,
	`event_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`reason` text NOT NULL,
	`attempts` integer NOT NULL,
	`last_status_code` integer,
	`created_at` integer NOT NULL,
	`redriven_at` integer
);
--> statement-breakpoint
CREATE INDEX `dead_letters_destination_idx` ON `dead_letters` (`destination_id`,`redriven_at`,`id`);