-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_consent_evidences" table
CREATE TABLE `new_consent_evidences` (`id` text NOT NULL, `purpose` text NOT NULL DEFAULT ('NEWSLETTER'), `event` text NOT NULL, `source` text NOT NULL, `consent_text` text NOT NULL DEFAULT (''), `consent_version` text NOT NULL DEFAULT (''), `at` datetime NOT NULL, `ip` text NOT NULL DEFAULT (''), `actor_id` text NOT NULL DEFAULT (''), `note` text NOT NULL DEFAULT (''), `withdrawn_at` datetime NULL, `consent_text_id` text NULL, `subscription_id` text NULL, `user_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `consent_evidences_consent_texts_consents` FOREIGN KEY (`consent_text_id`) REFERENCES `consent_texts` (`id`) ON DELETE SET NULL, CONSTRAINT `consent_evidences_newsletter_subscriptions_consent` FOREIGN KEY (`subscription_id`) REFERENCES `newsletter_subscriptions` (`id`) ON DELETE SET NULL, CONSTRAINT `consent_evidences_users_consents` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- Copy rows from old table "consent_evidences" to new temporary table "new_consent_evidences"
INSERT INTO `new_consent_evidences` (`id`, `event`, `source`, `consent_text`, `consent_version`, `at`, `ip`, `actor_id`, `note`, `subscription_id`) SELECT `id`, `event`, `source`, `consent_text`, `consent_version`, `at`, `ip`, `actor_id`, `note`, `subscription_id` FROM `consent_evidences`;
-- Drop "consent_evidences" table after copying rows
DROP TABLE `consent_evidences`;
-- Rename temporary table "new_consent_evidences" to "consent_evidences"
ALTER TABLE `new_consent_evidences` RENAME TO `consent_evidences`;
-- Create index "consentevidence_subscription_id" to table: "consent_evidences"
CREATE INDEX `consentevidence_subscription_id` ON `consent_evidences` (`subscription_id`);
-- Create index "consentevidence_user_id_purpose" to table: "consent_evidences"
CREATE INDEX `consentevidence_user_id_purpose` ON `consent_evidences` (`user_id`, `purpose`);
-- Create index "consentevidence_consent_text_id" to table: "consent_evidences"
CREATE INDEX `consentevidence_consent_text_id` ON `consent_evidences` (`consent_text_id`);
-- Create "consent_texts" table
CREATE TABLE `consent_texts` (`id` text NOT NULL, `purpose` text NOT NULL, `version` integer NOT NULL, `body` text NOT NULL, `requires_reconsent` bool NOT NULL DEFAULT (false), `published_at` datetime NOT NULL, `published_by_id` text NOT NULL, `lapsed_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "consenttext_purpose_version" to table: "consent_texts"
CREATE UNIQUE INDEX `consenttext_purpose_version` ON `consent_texts` (`purpose`, `version`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
