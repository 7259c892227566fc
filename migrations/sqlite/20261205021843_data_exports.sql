-- Create "data_exports" table
CREATE TABLE `data_exports` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `status` text NOT NULL DEFAULT ('QUEUED'), `token_hash` text NULL, `file` text NOT NULL DEFAULT (''), `size` integer NOT NULL DEFAULT (0), `ready_at` datetime NULL, `expires_at` datetime NULL, `downloaded_at` datetime NULL, `person_id` text NOT NULL, `requested_by_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `data_exports_users_person` FOREIGN KEY (`person_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION, CONSTRAINT `data_exports_users_requested_by` FOREIGN KEY (`requested_by_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "data_exports_token_hash_key" to table: "data_exports"
CREATE UNIQUE INDEX `data_exports_token_hash_key` ON `data_exports` (`token_hash`);
-- Create index "dataexport_person_id" to table: "data_exports"
CREATE INDEX `dataexport_person_id` ON `data_exports` (`person_id`);
-- Create index "dataexport_requested_by_id" to table: "data_exports"
CREATE INDEX `dataexport_requested_by_id` ON `data_exports` (`requested_by_id`);
-- Create index "dataexport_one_queued" to table: "data_exports"
CREATE UNIQUE INDEX `dataexport_one_queued` ON `data_exports` (`person_id`) WHERE status = 'QUEUED';
-- Create index "dataexport_status_expires_at" to table: "data_exports"
CREATE INDEX `dataexport_status_expires_at` ON `data_exports` (`status`, `expires_at`);
