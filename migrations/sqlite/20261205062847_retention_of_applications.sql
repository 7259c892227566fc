-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_calls" table
CREATE TABLE `new_calls` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `title` text NOT NULL, `description` text NOT NULL DEFAULT (''), `status` text NOT NULL DEFAULT ('DRAFT'), `status_reason` text NOT NULL DEFAULT (''), `opens_at` datetime NOT NULL, `closes_at` datetime NOT NULL, `time_zone` text NOT NULL, `placement_start` text NOT NULL, `placement_end` text NOT NULL, `placement_weeks` json NOT NULL, `eligible_countries` json NOT NULL, `max_preferences` integer NOT NULL DEFAULT (3), `funded_places` integer NOT NULL DEFAULT (0), `required_documents` json NOT NULL, `referee_letters` integer NOT NULL DEFAULT (1), `review_criteria` json NOT NULL, `offer_response_hours` integer NOT NULL DEFAULT (48), `min_lead_days` integer NOT NULL DEFAULT (14), `one_placement_per_trainee` bool NOT NULL DEFAULT (true), `no_repeat_months` integer NOT NULL DEFAULT (12), `ranking_deadline` datetime NULL, `ranking_closed_at` datetime NULL, `review_published_at` datetime NULL, `ended_at` datetime NULL, `applications_deleted` integer NOT NULL DEFAULT (0), PRIMARY KEY (`id`));
-- Copy rows from old table "calls" to new temporary table "new_calls"
INSERT INTO `new_calls` (`id`, `created_at`, `updated_at`, `title`, `description`, `status`, `status_reason`, `opens_at`, `closes_at`, `time_zone`, `placement_start`, `placement_end`, `placement_weeks`, `eligible_countries`, `max_preferences`, `funded_places`, `required_documents`, `referee_letters`, `review_criteria`, `offer_response_hours`, `min_lead_days`, `one_placement_per_trainee`, `no_repeat_months`, `ranking_deadline`, `ranking_closed_at`, `review_published_at`) SELECT `id`, `created_at`, `updated_at`, `title`, `description`, `status`, `status_reason`, `opens_at`, `closes_at`, `time_zone`, `placement_start`, `placement_end`, `placement_weeks`, `eligible_countries`, `max_preferences`, `funded_places`, `required_documents`, `referee_letters`, `review_criteria`, `offer_response_hours`, `min_lead_days`, `one_placement_per_trainee`, `no_repeat_months`, `ranking_deadline`, `ranking_closed_at`, `review_published_at` FROM `calls`;
-- Drop "calls" table after copying rows
DROP TABLE `calls`;
-- Rename temporary table "new_calls" to "calls"
ALTER TABLE `new_calls` RENAME TO `calls`;
-- Create index "call_status" to table: "calls"
CREATE INDEX `call_status` ON `calls` (`status`);
-- Create index "call_closes_at" to table: "calls"
CREATE INDEX `call_closes_at` ON `calls` (`closes_at`);
-- Add column "retention_warned_at" to table: "applications"
ALTER TABLE `applications` ADD COLUMN `retention_warned_at` datetime NULL;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
