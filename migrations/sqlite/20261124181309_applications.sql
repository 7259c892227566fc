-- Create "applications" table
CREATE TABLE `applications` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `status` text NOT NULL DEFAULT ('DRAFT'), `status_reason` text NOT NULL DEFAULT (''), `role` text NOT NULL DEFAULT (''), `cart_experience_years` integer NOT NULL DEFAULT (0), `motivation` text NOT NULL DEFAULT (''), `languages` json NOT NULL, `focus_areas` json NOT NULL, `availability` json NOT NULL, `preferred_weeks` integer NULL, `submitted_at` datetime NULL, `decided_at` datetime NULL, `withdrawn_at` datetime NULL, `home_organisation_id` text NULL, `call_id` text NOT NULL, `trainee_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `applications_organisations_home_organisation` FOREIGN KEY (`home_organisation_id`) REFERENCES `organisations` (`id`) ON DELETE SET NULL, CONSTRAINT `applications_calls_applications` FOREIGN KEY (`call_id`) REFERENCES `calls` (`id`) ON DELETE NO ACTION, CONSTRAINT `applications_users_applications` FOREIGN KEY (`trainee_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "application_call_id_trainee_id" to table: "applications"
CREATE UNIQUE INDEX `application_call_id_trainee_id` ON `applications` (`call_id`, `trainee_id`);
-- Create index "application_trainee_id" to table: "applications"
CREATE INDEX `application_trainee_id` ON `applications` (`trainee_id`);
-- Create index "application_call_id_status" to table: "applications"
CREATE INDEX `application_call_id_status` ON `applications` (`call_id`, `status`);
-- Create "application_choices" table
CREATE TABLE `application_choices` (`id` text NOT NULL, `rank` integer NOT NULL, `application_id` text NOT NULL, `host_centre_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `application_choices_applications_choices` FOREIGN KEY (`application_id`) REFERENCES `applications` (`id`) ON DELETE NO ACTION, CONSTRAINT `application_choices_host_centres_host_centre` FOREIGN KEY (`host_centre_id`) REFERENCES `host_centres` (`id`) ON DELETE NO ACTION);
-- Create index "applicationchoice_application_id_rank" to table: "application_choices"
CREATE UNIQUE INDEX `applicationchoice_application_id_rank` ON `application_choices` (`application_id`, `rank`);
-- Create index "applicationchoice_application_id_host_centre_id" to table: "application_choices"
CREATE UNIQUE INDEX `applicationchoice_application_id_host_centre_id` ON `application_choices` (`application_id`, `host_centre_id`);
-- Create index "applicationchoice_host_centre_id" to table: "application_choices"
CREATE INDEX `applicationchoice_host_centre_id` ON `application_choices` (`host_centre_id`);
-- Create "documents" table
CREATE TABLE `documents` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kind` text NOT NULL, `filename` text NOT NULL, `sha256` text NOT NULL, `size` integer NOT NULL, `application_id` text NOT NULL, `referee_request_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `documents_applications_documents` FOREIGN KEY (`application_id`) REFERENCES `applications` (`id`) ON DELETE NO ACTION, CONSTRAINT `documents_referee_requests_letter` FOREIGN KEY (`referee_request_id`) REFERENCES `referee_requests` (`id`) ON DELETE SET NULL);
-- Create index "documents_referee_request_id_key" to table: "documents"
CREATE UNIQUE INDEX `documents_referee_request_id_key` ON `documents` (`referee_request_id`);
-- Create index "document_application_id" to table: "documents"
CREATE INDEX `document_application_id` ON `documents` (`application_id`);
-- Create index "document_sha256" to table: "documents"
CREATE INDEX `document_sha256` ON `documents` (`sha256`);
-- Create "referee_requests" table
CREATE TABLE `referee_requests` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `referee_name` text NOT NULL, `referee_email` text NOT NULL, `waived` bool NOT NULL, `token_hash` text NOT NULL, `expires_at` datetime NOT NULL, `received_at` datetime NULL, `application_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `referee_requests_applications_referee_requests` FOREIGN KEY (`application_id`) REFERENCES `applications` (`id`) ON DELETE NO ACTION);
-- Create index "referee_requests_token_hash_key" to table: "referee_requests"
CREATE UNIQUE INDEX `referee_requests_token_hash_key` ON `referee_requests` (`token_hash`);
-- Create index "refereerequest_application_id" to table: "referee_requests"
CREATE INDEX `refereerequest_application_id` ON `referee_requests` (`application_id`);
