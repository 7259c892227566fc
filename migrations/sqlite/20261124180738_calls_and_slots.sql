-- Create "calls" table
CREATE TABLE `calls` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `title` text NOT NULL, `description` text NOT NULL DEFAULT (''), `status` text NOT NULL DEFAULT ('DRAFT'), `status_reason` text NOT NULL DEFAULT (''), `opens_at` datetime NOT NULL, `closes_at` datetime NOT NULL, `time_zone` text NOT NULL, `placement_start` text NOT NULL, `placement_end` text NOT NULL, `placement_weeks` json NOT NULL, `eligible_countries` json NOT NULL, `max_preferences` integer NOT NULL DEFAULT (3), `funded_places` integer NOT NULL DEFAULT (0), `required_documents` json NOT NULL, `referee_letters` integer NOT NULL DEFAULT (1), `review_criteria` json NOT NULL, `offer_response_hours` integer NOT NULL DEFAULT (48), `min_lead_days` integer NOT NULL DEFAULT (14), `one_placement_per_trainee` bool NOT NULL DEFAULT (true), `no_repeat_months` integer NOT NULL DEFAULT (12), `ranking_deadline` datetime NULL, PRIMARY KEY (`id`));
-- Create index "call_status" to table: "calls"
CREATE INDEX `call_status` ON `calls` (`status`);
-- Create index "call_closes_at" to table: "calls"
CREATE INDEX `call_closes_at` ON `calls` (`closes_at`);
-- Create "host_slots" table
CREATE TABLE `host_slots` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `start_date` text NOT NULL, `end_date` text NOT NULL, `weeks` integer NOT NULL, `capacity` integer NOT NULL, `languages` json NOT NULL, `focus_areas` json NOT NULL, `note` text NOT NULL DEFAULT (''), `status` text NOT NULL DEFAULT ('PROPOSED'), `status_reason` text NOT NULL DEFAULT (''), `call_id` text NOT NULL, `host_centre_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `host_slots_calls_slots` FOREIGN KEY (`call_id`) REFERENCES `calls` (`id`) ON DELETE NO ACTION, CONSTRAINT `host_slots_host_centres_slots` FOREIGN KEY (`host_centre_id`) REFERENCES `host_centres` (`id`) ON DELETE NO ACTION);
-- Create index "hostslot_call_id" to table: "host_slots"
CREATE INDEX `hostslot_call_id` ON `host_slots` (`call_id`);
-- Create index "hostslot_host_centre_id_call_id_start_date" to table: "host_slots"
CREATE INDEX `hostslot_host_centre_id_call_id_start_date` ON `host_slots` (`host_centre_id`, `call_id`, `start_date`);
