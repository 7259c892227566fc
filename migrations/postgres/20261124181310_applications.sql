-- Create "applications" table
CREATE TABLE "applications" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "status" character varying NOT NULL DEFAULT 'DRAFT', "status_reason" character varying NOT NULL DEFAULT '', "role" character varying NOT NULL DEFAULT '', "cart_experience_years" bigint NOT NULL DEFAULT 0, "motivation" character varying NOT NULL DEFAULT '', "languages" jsonb NOT NULL, "focus_areas" jsonb NOT NULL, "availability" jsonb NOT NULL, "preferred_weeks" bigint NULL, "submitted_at" timestamptz NULL, "decided_at" timestamptz NULL, "withdrawn_at" timestamptz NULL, "home_organisation_id" character varying NULL, "call_id" character varying NOT NULL, "trainee_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "applications_calls_applications" FOREIGN KEY ("call_id") REFERENCES "calls" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "applications_organisations_home_organisation" FOREIGN KEY ("home_organisation_id") REFERENCES "organisations" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "applications_users_applications" FOREIGN KEY ("trainee_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "application_call_id_status" to table: "applications"
CREATE INDEX "application_call_id_status" ON "applications" ("call_id", "status");
-- Create index "application_call_id_trainee_id" to table: "applications"
CREATE UNIQUE INDEX "application_call_id_trainee_id" ON "applications" ("call_id", "trainee_id");
-- Create index "application_trainee_id" to table: "applications"
CREATE INDEX "application_trainee_id" ON "applications" ("trainee_id");
-- Create "application_choices" table
CREATE TABLE "application_choices" ("id" character varying NOT NULL, "rank" bigint NOT NULL, "application_id" character varying NOT NULL, "host_centre_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "application_choices_applications_choices" FOREIGN KEY ("application_id") REFERENCES "applications" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "application_choices_host_centres_host_centre" FOREIGN KEY ("host_centre_id") REFERENCES "host_centres" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "applicationchoice_application_id_host_centre_id" to table: "application_choices"
CREATE UNIQUE INDEX "applicationchoice_application_id_host_centre_id" ON "application_choices" ("application_id", "host_centre_id");
-- Create index "applicationchoice_application_id_rank" to table: "application_choices"
CREATE UNIQUE INDEX "applicationchoice_application_id_rank" ON "application_choices" ("application_id", "rank");
-- Create index "applicationchoice_host_centre_id" to table: "application_choices"
CREATE INDEX "applicationchoice_host_centre_id" ON "application_choices" ("host_centre_id");
-- Create "referee_requests" table
CREATE TABLE "referee_requests" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "referee_name" character varying NOT NULL, "referee_email" character varying NOT NULL, "waived" boolean NOT NULL, "token_hash" character varying NOT NULL, "expires_at" timestamptz NOT NULL, "received_at" timestamptz NULL, "application_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "referee_requests_applications_referee_requests" FOREIGN KEY ("application_id") REFERENCES "applications" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "referee_requests_token_hash_key" to table: "referee_requests"
CREATE UNIQUE INDEX "referee_requests_token_hash_key" ON "referee_requests" ("token_hash");
-- Create index "refereerequest_application_id" to table: "referee_requests"
CREATE INDEX "refereerequest_application_id" ON "referee_requests" ("application_id");
-- Create "documents" table
CREATE TABLE "documents" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "kind" character varying NOT NULL, "filename" character varying NOT NULL, "sha256" character varying NOT NULL, "size" bigint NOT NULL, "application_id" character varying NOT NULL, "referee_request_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "documents_applications_documents" FOREIGN KEY ("application_id") REFERENCES "applications" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "documents_referee_requests_letter" FOREIGN KEY ("referee_request_id") REFERENCES "referee_requests" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "document_application_id" to table: "documents"
CREATE INDEX "document_application_id" ON "documents" ("application_id");
-- Create index "document_sha256" to table: "documents"
CREATE INDEX "document_sha256" ON "documents" ("sha256");
-- Create index "documents_referee_request_id_key" to table: "documents"
CREATE UNIQUE INDEX "documents_referee_request_id_key" ON "documents" ("referee_request_id");
