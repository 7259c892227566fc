-- Create "api_tokens" table
CREATE TABLE `api_tokens` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `token_hash` text NOT NULL, `hint` text NOT NULL, `scopes` json NOT NULL, `expires_at` datetime NULL, `last_used_at` datetime NULL, `revoked_at` datetime NULL, `created_by_id` text NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `api_tokens_users_api_tokens` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "api_tokens_token_hash_key" to table: "api_tokens"
CREATE UNIQUE INDEX `api_tokens_token_hash_key` ON `api_tokens` (`token_hash`);
-- Create index "apitoken_user_id" to table: "api_tokens"
CREATE INDEX `apitoken_user_id` ON `api_tokens` (`user_id`);
-- Create "audit_events" table
CREATE TABLE `audit_events` (`id` text NOT NULL, `occurred_at` datetime NOT NULL, `actor_id` text NULL, `actor_email` text NULL, `action` text NOT NULL, `object_type` text NULL, `object_id` text NULL, `request_id` text NULL, `ip` text NULL, `details` json NULL, PRIMARY KEY (`id`));
-- Create index "auditevent_occurred_at" to table: "audit_events"
CREATE INDEX `auditevent_occurred_at` ON `audit_events` (`occurred_at`);
-- Create index "auditevent_actor_id_occurred_at" to table: "audit_events"
CREATE INDEX `auditevent_actor_id_occurred_at` ON `audit_events` (`actor_id`, `occurred_at`);
-- Create index "auditevent_object_id" to table: "audit_events"
CREATE INDEX `auditevent_object_id` ON `audit_events` (`object_id`);
-- Create "jobs" table
CREATE TABLE `jobs` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `lease_owner` text NULL, `lease_until` datetime NULL, `last_started_at` datetime NULL, `last_finished_at` datetime NULL, `last_outcome` text NULL, `last_error` text NULL, `last_duration_ms` integer NOT NULL DEFAULT (0), `runs` integer NOT NULL DEFAULT (0), `failures` integer NOT NULL DEFAULT (0), PRIMARY KEY (`id`));
-- Create index "jobs_name_key" to table: "jobs"
CREATE UNIQUE INDEX `jobs_name_key` ON `jobs` (`name`);
-- Create "login_links" table
CREATE TABLE `login_links` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `token_hash` text NOT NULL, `requested_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, `requested_ip` text NOT NULL DEFAULT (''), `sent` bool NOT NULL DEFAULT (true), PRIMARY KEY (`id`));
-- Create index "login_links_token_hash_key" to table: "login_links"
CREATE UNIQUE INDEX `login_links_token_hash_key` ON `login_links` (`token_hash`);
-- Create index "loginlink_email_requested_at" to table: "login_links"
CREATE INDEX `loginlink_email_requested_at` ON `login_links` (`email`, `requested_at`);
-- Create index "loginlink_requested_ip_requested_at" to table: "login_links"
CREATE INDEX `loginlink_requested_ip_requested_at` ON `login_links` (`requested_ip`, `requested_at`);
-- Create index "loginlink_expires_at" to table: "login_links"
CREATE INDEX `loginlink_expires_at` ON `login_links` (`expires_at`);
-- Create "outbox_messages" table
CREATE TABLE `outbox_messages` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `dedupe_key` text NOT NULL, `template` text NOT NULL, `recipient` text NOT NULL, `recipient_name` text NOT NULL DEFAULT (''), `subject` text NOT NULL, `text_body` text NOT NULL, `html_body` text NOT NULL, `headers` json NULL, `attachments` json NULL, `state` text NOT NULL DEFAULT ('queued'), `attempts` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NOT NULL, `lease_until` datetime NULL, `lease_owner` text NULL, `last_error` text NULL, `sent_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "outbox_messages_dedupe_key_key" to table: "outbox_messages"
CREATE UNIQUE INDEX `outbox_messages_dedupe_key_key` ON `outbox_messages` (`dedupe_key`);
-- Create index "outboxmessage_state_next_attempt_at" to table: "outbox_messages"
CREATE INDEX `outboxmessage_state_next_attempt_at` ON `outbox_messages` (`state`, `next_attempt_at`);
-- Create index "outboxmessage_state_lease_until" to table: "outbox_messages"
CREATE INDEX `outboxmessage_state_lease_until` ON `outbox_messages` (`state`, `lease_until`);
-- Create index "outboxmessage_recipient" to table: "outbox_messages"
CREATE INDEX `outboxmessage_recipient` ON `outbox_messages` (`recipient`);
-- Create "sessions" table
CREATE TABLE `sessions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `token_hash` text NOT NULL, `expires_at` datetime NOT NULL, `last_used_at` datetime NULL, `revoked_at` datetime NULL, `ip` text NOT NULL DEFAULT (''), `user_agent` text NOT NULL DEFAULT (''), `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `sessions_users_sessions` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX `sessions_token_hash_key` ON `sessions` (`token_hash`);
-- Create index "session_user_id" to table: "sessions"
CREATE INDEX `session_user_id` ON `sessions` (`user_id`);
-- Create index "session_expires_at" to table: "sessions"
CREATE INDEX `session_expires_at` ON `sessions` (`expires_at`);
-- Create "users" table
CREATE TABLE `users` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `name` text NOT NULL DEFAULT (''), `roles` json NOT NULL, `disabled` bool NOT NULL DEFAULT (false), `last_sign_in_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX `users_email_key` ON `users` (`email`);
-- Create index "user_created_at" to table: "users"
CREATE INDEX `user_created_at` ON `users` (`created_at`);
