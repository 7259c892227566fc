-- Create "affiliations" table
CREATE TABLE `affiliations` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `position` text NOT NULL DEFAULT (''), `organisation_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `affiliations_organisations_affiliations` FOREIGN KEY (`organisation_id`) REFERENCES `organisations` (`id`) ON DELETE NO ACTION, CONSTRAINT `affiliations_users_affiliations` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "affiliation_user_id_organisation_id" to table: "affiliations"
CREATE UNIQUE INDEX `affiliation_user_id_organisation_id` ON `affiliations` (`user_id`, `organisation_id`);
-- Create index "affiliation_organisation_id" to table: "affiliations"
CREATE INDEX `affiliation_organisation_id` ON `affiliations` (`organisation_id`);
-- Create "host_centres" table
CREATE TABLE `host_centres` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `city` text NOT NULL, `country` text NOT NULL, `languages` json NOT NULL, `adult` bool NOT NULL DEFAULT (false), `paediatric` bool NOT NULL DEFAULT (false), `focus_areas` json NOT NULL, `accreditation` text NOT NULL DEFAULT (''), `accreditation_expires_on` text NULL, `products` json NOT NULL, `annual_patients` integer NOT NULL DEFAULT (0), `description` text NOT NULL DEFAULT (''), `accepting_observers` bool NOT NULL DEFAULT (false), `organisation_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `host_centres_organisations_host_centres` FOREIGN KEY (`organisation_id`) REFERENCES `organisations` (`id`) ON DELETE NO ACTION);
-- Create index "hostcentre_organisation_id" to table: "host_centres"
CREATE INDEX `hostcentre_organisation_id` ON `host_centres` (`organisation_id`);
-- Create index "hostcentre_country" to table: "host_centres"
CREATE INDEX `hostcentre_country` ON `host_centres` (`country`);
-- Create index "hostcentre_accepting_observers" to table: "host_centres"
CREATE INDEX `hostcentre_accepting_observers` ON `host_centres` (`accepting_observers`);
-- Create "organisations" table
CREATE TABLE `organisations` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `kind` text NOT NULL, `country` text NOT NULL, `city` text NOT NULL DEFAULT (''), `website` text NOT NULL DEFAULT (''), `active` bool NOT NULL DEFAULT (true), PRIMARY KEY (`id`));
-- Create index "organisation_name_country" to table: "organisations"
CREATE UNIQUE INDEX `organisation_name_country` ON `organisations` (`name`, `country`);
-- Create index "organisation_country" to table: "organisations"
CREATE INDEX `organisation_country` ON `organisations` (`country`);
-- Create index "organisation_kind" to table: "organisations"
CREATE INDEX `organisation_kind` ON `organisations` (`kind`);
-- Create "host_centre_coordinators" table
CREATE TABLE `host_centre_coordinators` (`host_centre_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`host_centre_id`, `user_id`), CONSTRAINT `host_centre_coordinators_host_centre_id` FOREIGN KEY (`host_centre_id`) REFERENCES `host_centres` (`id`) ON DELETE CASCADE, CONSTRAINT `host_centre_coordinators_user_id` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
