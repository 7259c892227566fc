-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_outbox_messages" table
CREATE TABLE `new_outbox_messages` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `dedupe_key` text NOT NULL, `template` text NOT NULL, `recipient` text NOT NULL, `recipient_name` text NOT NULL DEFAULT (''), `subject` text NOT NULL, `text_body` text NOT NULL, `html_body` text NOT NULL, `headers` json NULL, `attachments` json NULL, `state` text NOT NULL DEFAULT ('queued'), `lane` text NOT NULL DEFAULT ('transactional'), `batch_key` text NULL, `personal` json NULL, `attempts` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NOT NULL, `lease_until` datetime NULL, `lease_owner` text NULL, `last_error` text NULL, `sent_at` datetime NULL, `body_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `outbox_messages_mail_bodies_messages` FOREIGN KEY (`body_id`) REFERENCES `mail_bodies` (`id`) ON DELETE SET NULL);
-- Copy rows from old table "outbox_messages" to new temporary table "new_outbox_messages"
INSERT INTO `new_outbox_messages` (`id`, `created_at`, `updated_at`, `dedupe_key`, `template`, `recipient`, `recipient_name`, `subject`, `text_body`, `html_body`, `headers`, `attachments`, `state`, `attempts`, `next_attempt_at`, `lease_until`, `lease_owner`, `last_error`, `sent_at`) SELECT `id`, `created_at`, `updated_at`, `dedupe_key`, `template`, `recipient`, `recipient_name`, `subject`, `text_body`, `html_body`, `headers`, `attachments`, `state`, `attempts`, `next_attempt_at`, `lease_until`, `lease_owner`, `last_error`, `sent_at` FROM `outbox_messages`;
-- Drop "outbox_messages" table after copying rows
DROP TABLE `outbox_messages`;
-- Rename temporary table "new_outbox_messages" to "outbox_messages"
ALTER TABLE `new_outbox_messages` RENAME TO `outbox_messages`;
-- Create index "outbox_messages_dedupe_key_key" to table: "outbox_messages"
CREATE UNIQUE INDEX `outbox_messages_dedupe_key_key` ON `outbox_messages` (`dedupe_key`);
-- Create index "outboxmessage_state_lane_next_attempt_at" to table: "outbox_messages"
CREATE INDEX `outboxmessage_state_lane_next_attempt_at` ON `outbox_messages` (`state`, `lane`, `next_attempt_at`);
-- Create index "outboxmessage_batch_key_state" to table: "outbox_messages"
CREATE INDEX `outboxmessage_batch_key_state` ON `outbox_messages` (`batch_key`, `state`);
-- Create index "outboxmessage_state_lease_until" to table: "outbox_messages"
CREATE INDEX `outboxmessage_state_lease_until` ON `outbox_messages` (`state`, `lease_until`);
-- Create index "outboxmessage_recipient" to table: "outbox_messages"
CREATE INDEX `outboxmessage_recipient` ON `outbox_messages` (`recipient`);
-- Create "mail_bodies" table
CREATE TABLE `mail_bodies` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `template` text NOT NULL, `subject` text NOT NULL, `preheader` text NOT NULL DEFAULT (''), `text_body` text NOT NULL, `html_body` text NOT NULL, `headers` json NULL, PRIMARY KEY (`id`));
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
