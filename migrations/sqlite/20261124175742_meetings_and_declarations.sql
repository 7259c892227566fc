-- Create "conflict_of_interest_declarations" table
CREATE TABLE `conflict_of_interest_declarations` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `declared_on` text NOT NULL, `nothing_to_declare` bool NOT NULL, `interests` json NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `conflict_of_interest_declaratio_5e0b66ee0ecf0b5d00f4ccb9c2b1ce9e` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "conflictofinterestdeclaration_user_id_declared_on" to table: "conflict_of_interest_declarations"
CREATE INDEX `conflictofinterestdeclaration_user_id_declared_on` ON `conflict_of_interest_declarations` (`user_id`, `declared_on`);
-- Create "meetings" table
CREATE TABLE `meetings` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `title` text NOT NULL, `starts_at` datetime NOT NULL, `ends_at` datetime NOT NULL, `time_zone` text NOT NULL, `location` text NOT NULL DEFAULT (''), `video_link` text NOT NULL DEFAULT (''), `agenda` text NOT NULL DEFAULT (''), `minutes` text NOT NULL DEFAULT (''), `sequence` integer NOT NULL DEFAULT (0), `cancelled_at` datetime NULL, `cancel_reason` text NOT NULL DEFAULT (''), `group_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `meetings_working_groups_meetings` FOREIGN KEY (`group_id`) REFERENCES `working_groups` (`id`) ON DELETE NO ACTION);
-- Create index "meeting_group_id_starts_at" to table: "meetings"
CREATE INDEX `meeting_group_id_starts_at` ON `meetings` (`group_id`, `starts_at`);
-- Create index "meeting_starts_at" to table: "meetings"
CREATE INDEX `meeting_starts_at` ON `meetings` (`starts_at`);
-- Create "meeting_attendees" table
CREATE TABLE `meeting_attendees` (`meeting_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`meeting_id`, `user_id`), CONSTRAINT `meeting_attendees_meeting_id` FOREIGN KEY (`meeting_id`) REFERENCES `meetings` (`id`) ON DELETE CASCADE, CONSTRAINT `meeting_attendees_user_id` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create "meeting_invitees" table
CREATE TABLE `meeting_invitees` (`meeting_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`meeting_id`, `user_id`), CONSTRAINT `meeting_invitees_meeting_id` FOREIGN KEY (`meeting_id`) REFERENCES `meetings` (`id`) ON DELETE CASCADE, CONSTRAINT `meeting_invitees_user_id` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
