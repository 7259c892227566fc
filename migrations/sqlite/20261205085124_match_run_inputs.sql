-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "match_run_inputs" table
CREATE TABLE `match_run_inputs` (`id` text NOT NULL, `instance` json NOT NULL, `run_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `match_run_inputs_match_runs_input` FOREIGN KEY (`run_id`) REFERENCES `match_runs` (`id`) ON DELETE NO ACTION);
-- Create index "match_run_inputs_run_id_key" to table: "match_run_inputs"
CREATE UNIQUE INDEX `match_run_inputs_run_id_key` ON `match_run_inputs` (`run_id`);
-- Move each run's input into it (its id is the run's with the prefix mri)
INSERT INTO `match_run_inputs` (`id`, `instance`, `run_id`) SELECT 'mri_' || substr(`id`, 5), `input`, `id` FROM `match_runs`;
-- Create "new_match_runs" table
CREATE TABLE `new_match_runs` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `dry_run` bool NOT NULL, `algorithm` text NOT NULL, `version` text NOT NULL, `seed` integer NOT NULL, `input_hash` text NOT NULL, `pins` json NOT NULL, `overrides` json NULL, `assignments` json NOT NULL, `unmatched` json NOT NULL, `trainees` integer NOT NULL, `slots` integer NOT NULL, `places` integer NOT NULL, `matched` integer NOT NULL, `blocking_pairs` integer NOT NULL, `published_at` datetime NULL, `created_by_id` text NULL, `placement_start` text NULL, `call_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `match_runs_calls_match_runs` FOREIGN KEY (`call_id`) REFERENCES `calls` (`id`) ON DELETE NO ACTION);
-- Copy rows from old table "match_runs" to new temporary table "new_match_runs"
INSERT INTO `new_match_runs` (`id`, `created_at`, `updated_at`, `dry_run`, `algorithm`, `version`, `seed`, `input_hash`, `pins`, `overrides`, `assignments`, `unmatched`, `trainees`, `slots`, `places`, `matched`, `blocking_pairs`, `published_at`, `created_by_id`, `placement_start`, `call_id`) SELECT `id`, `created_at`, `updated_at`, `dry_run`, `algorithm`, `version`, `seed`, `input_hash`, `pins`, `overrides`, `assignments`, `unmatched`, `trainees`, `slots`, `places`, `matched`, `blocking_pairs`, `published_at`, `created_by_id`, `placement_start`, `call_id` FROM `match_runs`;
-- Drop "match_runs" table after copying rows
DROP TABLE `match_runs`;
-- Rename temporary table "new_match_runs" to "match_runs"
ALTER TABLE `new_match_runs` RENAME TO `match_runs`;
-- Create index "matchrun_call_id_created_at" to table: "match_runs"
CREATE INDEX `matchrun_call_id_created_at` ON `match_runs` (`call_id`, `created_at`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
