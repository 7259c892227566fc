-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_login_links" table
CREATE TABLE `new_login_links` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `token_hash` text NOT NULL, `requested_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, `requested_ip` text NOT NULL DEFAULT (''), `intent` text NOT NULL DEFAULT (''), `sent` bool NOT NULL DEFAULT (true), PRIMARY KEY (`id`));
-- Copy rows from old table "login_links" to new temporary table "new_login_links"
INSERT INTO `new_login_links` (`id`, `created_at`, `updated_at`, `email`, `token_hash`, `requested_at`, `expires_at`, `used_at`, `requested_ip`, `sent`) SELECT `id`, `created_at`, `updated_at`, `email`, `token_hash`, `requested_at`, `expires_at`, `used_at`, `requested_ip`, `sent` FROM `login_links`;
-- Drop "login_links" table after copying rows
DROP TABLE `login_links`;
-- Rename temporary table "new_login_links" to "login_links"
ALTER TABLE `new_login_links` RENAME TO `login_links`;
-- Create index "login_links_token_hash_key" to table: "login_links"
CREATE UNIQUE INDEX `login_links_token_hash_key` ON `login_links` (`token_hash`);
-- Create index "loginlink_email_requested_at" to table: "login_links"
CREATE INDEX `loginlink_email_requested_at` ON `login_links` (`email`, `requested_at`);
-- Create index "loginlink_requested_ip_requested_at" to table: "login_links"
CREATE INDEX `loginlink_requested_ip_requested_at` ON `login_links` (`requested_ip`, `requested_at`);
-- Create index "loginlink_expires_at" to table: "login_links"
CREATE INDEX `loginlink_expires_at` ON `login_links` (`expires_at`);
-- Create "memberships" table
CREATE TABLE `memberships` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `role` text NOT NULL, `term_start` text NOT NULL, `term_end` text NOT NULL, `answer` text NOT NULL DEFAULT ('PENDING'), `answered_at` datetime NULL, `ended_on` text NULL, `end_reason` text NOT NULL DEFAULT (''), `invited_by_id` text NULL, `organisation_id` text NULL, `user_id` text NOT NULL, `group_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `memberships_organisations_organisation` FOREIGN KEY (`organisation_id`) REFERENCES `organisations` (`id`) ON DELETE SET NULL, CONSTRAINT `memberships_users_memberships` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION, CONSTRAINT `memberships_working_groups_memberships` FOREIGN KEY (`group_id`) REFERENCES `working_groups` (`id`) ON DELETE NO ACTION);
-- Create index "membership_group_id" to table: "memberships"
CREATE INDEX `membership_group_id` ON `memberships` (`group_id`);
-- Create index "membership_user_id" to table: "memberships"
CREATE INDEX `membership_user_id` ON `memberships` (`user_id`);
-- Create index "membership_group_id_role" to table: "memberships"
CREATE INDEX `membership_group_id_role` ON `memberships` (`group_id`, `role`);
-- Create index "membership_term_end" to table: "memberships"
CREATE INDEX `membership_term_end` ON `memberships` (`term_end`);
-- Create "working_groups" table
CREATE TABLE `working_groups` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `work_package` text NOT NULL, `purpose` text NOT NULL DEFAULT (''), `visibility` text NOT NULL DEFAULT ('INTERNAL'), `archived` bool NOT NULL DEFAULT (false), PRIMARY KEY (`id`));
-- Create index "working_groups_name_key" to table: "working_groups"
CREATE UNIQUE INDEX `working_groups_name_key` ON `working_groups` (`name`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
