-- Create "host_rankings" table
CREATE TABLE `host_rankings` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `rank` integer NOT NULL, `call_id` text NOT NULL, `host_centre_id` text NOT NULL, `application_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `host_rankings_calls_call` FOREIGN KEY (`call_id`) REFERENCES `calls` (`id`) ON DELETE NO ACTION, CONSTRAINT `host_rankings_host_centres_host_centre` FOREIGN KEY (`host_centre_id`) REFERENCES `host_centres` (`id`) ON DELETE NO ACTION, CONSTRAINT `host_rankings_applications_application` FOREIGN KEY (`application_id`) REFERENCES `applications` (`id`) ON DELETE NO ACTION);
-- Create index "hostranking_call_id_host_centre_id_rank" to table: "host_rankings"
CREATE UNIQUE INDEX `hostranking_call_id_host_centre_id_rank` ON `host_rankings` (`call_id`, `host_centre_id`, `rank`);
-- Create index "hostranking_call_id_host_centre_id_application_id" to table: "host_rankings"
CREATE UNIQUE INDEX `hostranking_call_id_host_centre_id_application_id` ON `host_rankings` (`call_id`, `host_centre_id`, `application_id`);
-- Create "reviews" table
CREATE TABLE `reviews` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `scores` json NOT NULL, `comment` text NOT NULL DEFAULT (''), `conflict` bool NOT NULL DEFAULT (false), `conflict_reason` text NOT NULL DEFAULT (''), `application_id` text NOT NULL, `reviewer_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `reviews_applications_reviews` FOREIGN KEY (`application_id`) REFERENCES `applications` (`id`) ON DELETE NO ACTION, CONSTRAINT `reviews_users_reviewer` FOREIGN KEY (`reviewer_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "review_application_id_reviewer_id" to table: "reviews"
CREATE UNIQUE INDEX `review_application_id_reviewer_id` ON `reviews` (`application_id`, `reviewer_id`);
