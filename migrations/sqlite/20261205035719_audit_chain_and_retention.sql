-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_audit_events" table
CREATE TABLE `new_audit_events` (`id` text NOT NULL, `occurred_at` datetime NOT NULL, `actor_id` text NULL, `actor_email` text NULL, `action` text NOT NULL, `object_type` text NULL, `object_id` text NULL, `request_id` text NULL, `ip` text NULL, `details` json NULL, `seq` integer NULL, `prev_hash` text NULL, `hash` text NULL, PRIMARY KEY (`id`));
-- Copy rows from old table "audit_events" to new temporary table "new_audit_events"
INSERT INTO `new_audit_events` (`id`, `occurred_at`, `actor_id`, `actor_email`, `action`, `object_type`, `object_id`, `request_id`, `ip`, `details`) SELECT `id`, `occurred_at`, `actor_id`, `actor_email`, `action`, `object_type`, `object_id`, `request_id`, `ip`, `details` FROM `audit_events`;
-- Drop "audit_events" table after copying rows
DROP TABLE `audit_events`;
-- Rename temporary table "new_audit_events" to "audit_events"
ALTER TABLE `new_audit_events` RENAME TO `audit_events`;
-- Create index "auditevent_occurred_at" to table: "audit_events"
CREATE INDEX `auditevent_occurred_at` ON `audit_events` (`occurred_at`);
-- Create index "auditevent_actor_id_occurred_at" to table: "audit_events"
CREATE INDEX `auditevent_actor_id_occurred_at` ON `audit_events` (`actor_id`, `occurred_at`);
-- Create index "auditevent_object_id" to table: "audit_events"
CREATE INDEX `auditevent_object_id` ON `audit_events` (`object_id`);
-- Create index "auditevent_seq" to table: "audit_events"
CREATE UNIQUE INDEX `auditevent_seq` ON `audit_events` (`seq`);
-- Create "audit_checkpoints" table
CREATE TABLE `audit_checkpoints` (`id` text NOT NULL, `created_at` datetime NOT NULL, `through_seq` integer NOT NULL, `through_hash` text NOT NULL, `pruned_count` integer NOT NULL, `cutoff` datetime NOT NULL, `signature` text NOT NULL, PRIMARY KEY (`id`));
-- Create index "auditcheckpoint_through_seq" to table: "audit_checkpoints"
CREATE UNIQUE INDEX `auditcheckpoint_through_seq` ON `audit_checkpoints` (`through_seq`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
