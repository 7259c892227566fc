-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_login_links" table
CREATE TABLE `new_login_links` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `token_hash` text NOT NULL, `requested_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, `requested_ip` text NOT NULL DEFAULT (''), `intent` text NOT NULL DEFAULT (''), `sent` bool NOT NULL DEFAULT (true), PRIMARY KEY (`id`));
-- Copy rows from old table "login_links" to new temporary table "new_login_links"
INSERT INTO `new_login_links` (`id`, `created_at`, `updated_at`, `email`, `token_hash`, `requested_at`, `expires_at`, `used_at`, `requested_ip`, `intent`, `sent`) SELECT `id`, `created_at`, `updated_at`, `email`, `token_hash`, `requested_at`, `expires_at`, `used_at`, `requested_ip`, `intent`, `sent` FROM `login_links`;
-- Drop "login_links" table after copying rows
DROP TABLE `login_links`;
-- Rename temporary table "new_login_links" to "login_links"
ALTER TABLE `new_login_links` RENAME TO `login_links`;
-- Create index "login_links_token_hash_key" to table: "login_links"
CREATE UNIQUE INDEX `login_links_token_hash_key` ON `login_links` (`token_hash`);
-- Create index "loginlink_email_requested_at" to table: "login_links"
CREATE INDEX `loginlink_email_requested_at` ON `login_links` (`email`, `requested_at`);
-- Create index "loginlink_requested_ip_requested_at" to table: "login_links"
CREATE INDEX `loginlink_requested_ip_requested_at` ON `login_links` (`requested_ip`, `requested_at`) WHERE intent = '';
-- Create index "loginlink_expires_at" to table: "login_links"
CREATE INDEX `loginlink_expires_at` ON `login_links` (`expires_at`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
