-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_working_groups" table
CREATE TABLE `new_working_groups` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `work_package` text NOT NULL, `purpose` text NOT NULL DEFAULT (''), `visibility` text NOT NULL DEFAULT ('INTERNAL'), `archived` bool NOT NULL DEFAULT (false), `campaign_groups` text NULL, PRIMARY KEY (`id`), CONSTRAINT `working_groups_campaigns_groups` FOREIGN KEY (`campaign_groups`) REFERENCES `campaigns` (`id`) ON DELETE SET NULL);
-- Copy rows from old table "working_groups" to new temporary table "new_working_groups"
INSERT INTO `new_working_groups` (`id`, `created_at`, `updated_at`, `name`, `work_package`, `purpose`, `visibility`, `archived`) SELECT `id`, `created_at`, `updated_at`, `name`, `work_package`, `purpose`, `visibility`, `archived` FROM `working_groups`;
-- Drop "working_groups" table after copying rows
DROP TABLE `working_groups`;
-- Rename temporary table "new_working_groups" to "working_groups"
ALTER TABLE `new_working_groups` RENAME TO `working_groups`;
-- Create index "working_groups_name_key" to table: "working_groups"
CREATE UNIQUE INDEX `working_groups_name_key` ON `working_groups` (`name`);
-- Create "campaigns" table
CREATE TABLE `campaigns` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `subject` text NOT NULL, `preheader` text NOT NULL DEFAULT (''), `body` text NOT NULL, `html_body` text NOT NULL, `text_body` text NOT NULL, `status` text NOT NULL DEFAULT ('DRAFT'), `approved_at` datetime NULL, `scheduled_at` datetime NULL, `late_since` datetime NULL, `started_at` datetime NULL, `frozen_at` datetime NULL, `freeze_cursor` text NOT NULL DEFAULT (''), `recipients` integer NOT NULL DEFAULT (0), `sent_at` datetime NULL, `cancelled_at` datetime NULL, `slug` text NULL, `public_archive` bool NOT NULL DEFAULT (false), `created_by_id` text NOT NULL, `edited_by_id` text NOT NULL, `approved_by_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `campaigns_users_author` FOREIGN KEY (`created_by_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION, CONSTRAINT `campaigns_users_editor` FOREIGN KEY (`edited_by_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION, CONSTRAINT `campaigns_users_approver` FOREIGN KEY (`approved_by_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- Create index "campaigns_slug_key" to table: "campaigns"
CREATE UNIQUE INDEX `campaigns_slug_key` ON `campaigns` (`slug`);
-- Create index "campaign_status_scheduled_at" to table: "campaigns"
CREATE INDEX `campaign_status_scheduled_at` ON `campaigns` (`status`, `scheduled_at`);
-- Create index "campaign_public_archive_status_sent_at" to table: "campaigns"
CREATE INDEX `campaign_public_archive_status_sent_at` ON `campaigns` (`public_archive`, `status`, `sent_at`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
