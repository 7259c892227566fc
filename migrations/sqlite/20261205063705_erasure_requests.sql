-- Add column "salt" to table: "audit_events"
ALTER TABLE `audit_events` ADD COLUMN `salt` text NULL;
-- Add column "personal_digest" to table: "audit_events"
ALTER TABLE `audit_events` ADD COLUMN `personal_digest` text NULL;
-- Create "erasure_requests" table
CREATE TABLE `erasure_requests` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `status` text NOT NULL DEFAULT ('PENDING'), `self_service` bool NOT NULL DEFAULT (false), `blockers` json NULL, `decided_by_id` text NULL, `decided_at` datetime NULL, `reason` text NOT NULL DEFAULT (''), `erased_at` datetime NULL, `rows` integer NOT NULL DEFAULT (0), `last_error` text NOT NULL DEFAULT (''), `person_id` text NOT NULL, `requested_by_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `erasure_requests_users_person` FOREIGN KEY (`person_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION, CONSTRAINT `erasure_requests_users_requested_by` FOREIGN KEY (`requested_by_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "erasurerequest_person_id" to table: "erasure_requests"
CREATE INDEX `erasurerequest_person_id` ON `erasure_requests` (`person_id`);
-- Create index "erasurerequest_requested_by_id" to table: "erasure_requests"
CREATE INDEX `erasurerequest_requested_by_id` ON `erasure_requests` (`requested_by_id`);
-- Create index "erasurerequest_one_open" to table: "erasure_requests"
CREATE UNIQUE INDEX `erasurerequest_one_open` ON `erasure_requests` (`person_id`) WHERE status = 'PENDING' OR status = 'QUEUED';
-- Create index "erasurerequest_status_created_at" to table: "erasure_requests"
CREATE INDEX `erasurerequest_status_created_at` ON `erasure_requests` (`status`, `created_at`);
