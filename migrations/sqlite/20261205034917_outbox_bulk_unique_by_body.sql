-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_outbox_messages" table
CREATE TABLE `new_outbox_messages` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `dedupe_key` text NULL, `template` text NOT NULL, `recipient` text NOT NULL, `recipient_name` text NOT NULL DEFAULT (''), `subject` text NOT NULL, `text_body` text NOT NULL, `html_body` text NOT NULL, `headers` json NULL, `attachments` json NULL, `state` text NOT NULL DEFAULT ('queued'), `lane` text NOT NULL DEFAULT ('transactional'), `personal` json NULL, `attempts` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NOT NULL, `lease_until` datetime NULL, `lease_owner` text NULL, `last_error` text NULL, `sent_at` datetime NULL, `body_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `outbox_messages_mail_bodies_messages` FOREIGN KEY (`body_id`) REFERENCES `mail_bodies` (`id`) ON DELETE SET NULL);
-- Copy rows from old table "outbox_messages" to new temporary table "new_outbox_messages"
INSERT INTO `new_outbox_messages` (`id`, `created_at`, `updated_at`, `dedupe_key`, `template`, `recipient`, `recipient_name`, `subject`, `text_body`, `html_body`, `headers`, `attachments`, `state`, `lane`, `personal`, `attempts`, `next_attempt_at`, `lease_until`, `lease_owner`, `last_error`, `sent_at`, `body_id`) SELECT `id`, `created_at`, `updated_at`, `dedupe_key`, `template`, `recipient`, `recipient_name`, `subject`, `text_body`, `html_body`, `headers`, `attachments`, `state`, `lane`, `personal`, `attempts`, `next_attempt_at`, `lease_until`, `lease_owner`, `last_error`, `sent_at`, `body_id` FROM `outbox_messages`;
-- Drop "outbox_messages" table after copying rows
DROP TABLE `outbox_messages`;
-- Rename temporary table "new_outbox_messages" to "outbox_messages"
ALTER TABLE `new_outbox_messages` RENAME TO `outbox_messages`;
-- Create index "outbox_messages_dedupe_key_key" to table: "outbox_messages"
CREATE UNIQUE INDEX `outbox_messages_dedupe_key_key` ON `outbox_messages` (`dedupe_key`);
-- Create index "outboxmessage_queued_lane_next_attempt_at" to table: "outbox_messages"
CREATE INDEX `outboxmessage_queued_lane_next_attempt_at` ON `outbox_messages` (`lane`, `next_attempt_at`) WHERE state = 'queued';
-- Create index "outboxmessage_sending_lease" to table: "outbox_messages"
CREATE INDEX `outboxmessage_sending_lease` ON `outbox_messages` (`lease_until`, `lease_owner`) WHERE state = 'sending';
-- Create index "outboxmessage_bulk_body_recipient" to table: "outbox_messages"
CREATE UNIQUE INDEX `outboxmessage_bulk_body_recipient` ON `outbox_messages` (`body_id`, `recipient`) WHERE lane = 'bulk';
-- Create index "outboxmessage_recipient" to table: "outbox_messages"
CREATE INDEX `outboxmessage_recipient` ON `outbox_messages` (`recipient`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
