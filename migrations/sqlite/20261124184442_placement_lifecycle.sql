-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_placements" table
CREATE TABLE `new_placements` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `run_id` text NULL, `status` text NOT NULL DEFAULT ('OFFERED'), `status_reason` text NOT NULL DEFAULT (''), `start_date` text NOT NULL, `end_date` text NOT NULL, `offer_deadline` datetime NOT NULL, `sequence` integer NOT NULL DEFAULT (0), `from_waitlist` bool NOT NULL DEFAULT (false), `accepted_at` datetime NULL, `confirmed_at` datetime NULL, `proposed_start` text NULL, `proposed_end` text NULL, `report` text NOT NULL DEFAULT (''), `evaluation` text NOT NULL DEFAULT (''), `call_id` text NOT NULL, `slot_id` text NOT NULL, `host_centre_id` text NOT NULL, `application_id` text NOT NULL, `trainee_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `placements_calls_placements` FOREIGN KEY (`call_id`) REFERENCES `calls` (`id`) ON DELETE NO ACTION, CONSTRAINT `placements_host_slots_slot` FOREIGN KEY (`slot_id`) REFERENCES `host_slots` (`id`) ON DELETE NO ACTION, CONSTRAINT `placements_host_centres_host_centre` FOREIGN KEY (`host_centre_id`) REFERENCES `host_centres` (`id`) ON DELETE NO ACTION, CONSTRAINT `placements_applications_application` FOREIGN KEY (`application_id`) REFERENCES `applications` (`id`) ON DELETE NO ACTION, CONSTRAINT `placements_users_trainee` FOREIGN KEY (`trainee_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Copy rows from old table "placements" to new temporary table "new_placements"
INSERT INTO `new_placements` (`id`, `created_at`, `updated_at`, `run_id`, `status`, `status_reason`, `start_date`, `end_date`, `offer_deadline`, `sequence`, `call_id`, `slot_id`, `host_centre_id`, `application_id`, `trainee_id`) SELECT `id`, `created_at`, `updated_at`, `run_id`, `status`, `status_reason`, `start_date`, `end_date`, `offer_deadline`, `sequence`, `call_id`, `slot_id`, `host_centre_id`, `application_id`, `trainee_id` FROM `placements`;
-- Drop "placements" table after copying rows
DROP TABLE `placements`;
-- Rename temporary table "new_placements" to "placements"
ALTER TABLE `new_placements` RENAME TO `placements`;
-- Create index "placement_call_id_status" to table: "placements"
CREATE INDEX `placement_call_id_status` ON `placements` (`call_id`, `status`);
-- Create index "placement_slot_id_status" to table: "placements"
CREATE INDEX `placement_slot_id_status` ON `placements` (`slot_id`, `status`);
-- Create index "placement_trainee_id" to table: "placements"
CREATE INDEX `placement_trainee_id` ON `placements` (`trainee_id`);
-- Create index "placement_host_centre_id" to table: "placements"
CREATE INDEX `placement_host_centre_id` ON `placements` (`host_centre_id`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
