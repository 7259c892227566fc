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
-- Create "campaigns" table
CREATE TABLE `campaigns` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `subject` text NOT NULL, `preheader` text NOT NULL DEFAULT (''), `body` text NOT NULL, `html_body` text NOT NULL, `text_body` text NOT NULL, `status` text NOT NULL DEFAULT ('DRAFT'), `approved_at` datetime NULL, `scheduled_at` datetime NULL, `late_since` datetime NULL, `started_at` datetime NULL, `frozen_at` datetime NULL, `freeze_cursor` text NOT NULL DEFAULT (''), `mail_body_id` text NULL, `recipients` integer NOT NULL DEFAULT (0), `sent_at` datetime NULL, `cancelled_at` datetime NULL, `slug` text NULL, `public_archive` bool NOT NULL DEFAULT (false), `created_by_id` text NOT NULL, `edited_by_id` text NOT NULL, `approved_by_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `campaigns_users_author` FOREIGN KEY (`created_by_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION, CONSTRAINT `campaigns_users_editor` FOREIGN KEY (`edited_by_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION, CONSTRAINT `campaigns_users_approver` FOREIGN KEY (`approved_by_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- Create index "campaigns_slug_key" to table: "campaigns"
CREATE UNIQUE INDEX `campaigns_slug_key` ON `campaigns` (`slug`);
-- Create index "campaign_status_scheduled_at" to table: "campaigns"
CREATE INDEX `campaign_status_scheduled_at` ON `campaigns` (`status`, `scheduled_at`);
-- Create index "campaign_public_archive_status_sent_at" to table: "campaigns"
CREATE INDEX `campaign_public_archive_status_sent_at` ON `campaigns` (`public_archive`, `status`, `sent_at`);
-- Create "consent_evidences" table
CREATE TABLE `consent_evidences` (`id` text NOT NULL, `event` text NOT NULL, `source` text NOT NULL, `consent_text` text NOT NULL DEFAULT (''), `consent_version` text NOT NULL DEFAULT (''), `at` datetime NOT NULL, `ip` text NOT NULL DEFAULT (''), `actor_id` text NOT NULL DEFAULT (''), `note` text NOT NULL DEFAULT (''), `subscription_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `consent_evidences_newsletter_subscriptions_consent` FOREIGN KEY (`subscription_id`) REFERENCES `newsletter_subscriptions` (`id`) ON DELETE NO ACTION);
-- Create "mail_bodies" table
CREATE TABLE `mail_bodies` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `template` text NOT NULL, `subject` text NOT NULL, `preheader` text NOT NULL DEFAULT (''), `text_body` text NOT NULL, `html_body` text NOT NULL, `headers` json NULL, PRIMARY KEY (`id`));
-- Create "mailing_lists" table
CREATE TABLE `mailing_lists` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `slug` text NOT NULL, `description` text NOT NULL DEFAULT (''), `visibility` text NOT NULL DEFAULT ('PUBLIC'), `archived` bool NOT NULL DEFAULT (false), PRIMARY KEY (`id`));
-- Create index "mailing_lists_name_key" to table: "mailing_lists"
CREATE UNIQUE INDEX `mailing_lists_name_key` ON `mailing_lists` (`name`);
-- Create index "mailing_lists_slug_key" to table: "mailing_lists"
CREATE UNIQUE INDEX `mailing_lists_slug_key` ON `mailing_lists` (`slug`);
-- Create "newsletter_subscriptions" table
CREATE TABLE `newsletter_subscriptions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `status` text NOT NULL DEFAULT ('UNCONFIRMED'), `confirmed_at` datetime NULL, `unsubscribed_at` datetime NULL, `list_id` text NOT NULL, `subscriber_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `newsletter_subscriptions_mailing_lists_subscriptions` FOREIGN KEY (`list_id`) REFERENCES `mailing_lists` (`id`) ON DELETE NO ACTION, CONSTRAINT `newsletter_subscriptions_subscribers_subscriptions` FOREIGN KEY (`subscriber_id`) REFERENCES `subscribers` (`id`) ON DELETE NO ACTION);
-- Create index "newslettersubscription_subscriber_id_list_id" to table: "newsletter_subscriptions"
CREATE UNIQUE INDEX `newslettersubscription_subscriber_id_list_id` ON `newsletter_subscriptions` (`subscriber_id`, `list_id`);
-- Create index "newslettersubscription_list_id_status" to table: "newsletter_subscriptions"
CREATE INDEX `newslettersubscription_list_id_status` ON `newsletter_subscriptions` (`list_id`, `status`);
-- Create "subscribers" table
CREATE TABLE `subscribers` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `name` text NOT NULL DEFAULT (''), `confirm_token_hash` text NULL, `confirm_sent_at` datetime NULL, `confirm_expires_at` datetime NULL, `confirm_used_at` datetime NULL, `user_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `subscribers_users_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- Create index "subscribers_email_key" to table: "subscribers"
CREATE UNIQUE INDEX `subscribers_email_key` ON `subscribers` (`email`);
-- Create index "subscribers_confirm_token_hash_key" to table: "subscribers"
CREATE UNIQUE INDEX `subscribers_confirm_token_hash_key` ON `subscribers` (`confirm_token_hash`);
-- Create index "subscriber_created_at" to table: "subscribers"
CREATE INDEX `subscriber_created_at` ON `subscribers` (`created_at`);
-- Create "suppressions" table
CREATE TABLE `suppressions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email_hash` text NOT NULL, `email` text NOT NULL DEFAULT (''), `reason` text NOT NULL, `detail` text NOT NULL DEFAULT (''), PRIMARY KEY (`id`));
-- Create index "suppressions_email_hash_key" to table: "suppressions"
CREATE UNIQUE INDEX `suppressions_email_hash_key` ON `suppressions` (`email_hash`);
-- Create index "suppression_created_at" to table: "suppressions"
CREATE INDEX `suppression_created_at` ON `suppressions` (`created_at`);
-- Create "campaign_lists" table
CREATE TABLE `campaign_lists` (`campaign_id` text NOT NULL, `mailing_list_id` text NOT NULL, PRIMARY KEY (`campaign_id`, `mailing_list_id`), CONSTRAINT `campaign_lists_campaign_id` FOREIGN KEY (`campaign_id`) REFERENCES `campaigns` (`id`) ON DELETE CASCADE, CONSTRAINT `campaign_lists_mailing_list_id` FOREIGN KEY (`mailing_list_id`) REFERENCES `mailing_lists` (`id`) ON DELETE CASCADE);
-- Create "campaign_groups" table
CREATE TABLE `campaign_groups` (`campaign_id` text NOT NULL, `working_group_id` text NOT NULL, PRIMARY KEY (`campaign_id`, `working_group_id`), CONSTRAINT `campaign_groups_campaign_id` FOREIGN KEY (`campaign_id`) REFERENCES `campaigns` (`id`) ON DELETE CASCADE, CONSTRAINT `campaign_groups_working_group_id` FOREIGN KEY (`working_group_id`) REFERENCES `working_groups` (`id`) ON DELETE CASCADE);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
