-- Create "match_overrides" table
CREATE TABLE `match_overrides` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kind` text NOT NULL, `reason` text NOT NULL, `call_id` text NOT NULL, `application_id` text NOT NULL, `slot_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `match_overrides_calls_match_overrides` FOREIGN KEY (`call_id`) REFERENCES `calls` (`id`) ON DELETE NO ACTION, CONSTRAINT `match_overrides_applications_application` FOREIGN KEY (`application_id`) REFERENCES `applications` (`id`) ON DELETE NO ACTION, CONSTRAINT `match_overrides_host_slots_slot` FOREIGN KEY (`slot_id`) REFERENCES `host_slots` (`id`) ON DELETE NO ACTION);
-- Create index "matchoverride_call_id_application_id_slot_id" to table: "match_overrides"
CREATE UNIQUE INDEX `matchoverride_call_id_application_id_slot_id` ON `match_overrides` (`call_id`, `application_id`, `slot_id`);
-- Create "match_runs" table
CREATE TABLE `match_runs` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `dry_run` bool NOT NULL, `algorithm` text NOT NULL, `version` text NOT NULL, `seed` integer NOT NULL, `input_hash` text NOT NULL, `input` json NOT NULL, `pins` json NOT NULL, `assignments` json NOT NULL, `unmatched` json NOT NULL, `trainees` integer NOT NULL, `slots` integer NOT NULL, `places` integer NOT NULL, `matched` integer NOT NULL, `blocking_pairs` integer NOT NULL, `published_at` datetime NULL, `created_by_id` text NULL, `placement_start` text NULL, `call_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `match_runs_calls_match_runs` FOREIGN KEY (`call_id`) REFERENCES `calls` (`id`) ON DELETE NO ACTION);
-- Create index "matchrun_call_id_created_at" to table: "match_runs"
CREATE INDEX `matchrun_call_id_created_at` ON `match_runs` (`call_id`, `created_at`);
-- Create "placements" table
CREATE TABLE `placements` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `run_id` text NULL, `status` text NOT NULL DEFAULT ('OFFERED'), `status_reason` text NOT NULL DEFAULT (''), `start_date` text NOT NULL, `end_date` text NOT NULL, `offer_deadline` datetime NOT NULL, `sequence` integer NOT NULL DEFAULT (0), `call_id` text NOT NULL, `slot_id` text NOT NULL, `host_centre_id` text NOT NULL, `application_id` text NOT NULL, `trainee_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `placements_calls_placements` FOREIGN KEY (`call_id`) REFERENCES `calls` (`id`) ON DELETE NO ACTION, CONSTRAINT `placements_host_slots_slot` FOREIGN KEY (`slot_id`) REFERENCES `host_slots` (`id`) ON DELETE NO ACTION, CONSTRAINT `placements_host_centres_host_centre` FOREIGN KEY (`host_centre_id`) REFERENCES `host_centres` (`id`) ON DELETE NO ACTION, CONSTRAINT `placements_applications_application` FOREIGN KEY (`application_id`) REFERENCES `applications` (`id`) ON DELETE NO ACTION, CONSTRAINT `placements_users_trainee` FOREIGN KEY (`trainee_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "placement_call_id_status" to table: "placements"
CREATE INDEX `placement_call_id_status` ON `placements` (`call_id`, `status`);
-- Create index "placement_slot_id_status" to table: "placements"
CREATE INDEX `placement_slot_id_status` ON `placements` (`slot_id`, `status`);
-- Create index "placement_trainee_id" to table: "placements"
CREATE INDEX `placement_trainee_id` ON `placements` (`trainee_id`);
-- Create index "placement_host_centre_id" to table: "placements"
CREATE INDEX `placement_host_centre_id` ON `placements` (`host_centre_id`);
