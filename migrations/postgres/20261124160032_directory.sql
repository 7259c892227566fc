-- Create "organisations" table
CREATE TABLE "organisations" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "kind" character varying NOT NULL, "country" character varying NOT NULL, "city" character varying NOT NULL DEFAULT '', "website" character varying NOT NULL DEFAULT '', "active" boolean NOT NULL DEFAULT true, PRIMARY KEY ("id"));
-- Create index "organisation_country" to table: "organisations"
CREATE INDEX "organisation_country" ON "organisations" ("country");
-- Create index "organisation_kind" to table: "organisations"
CREATE INDEX "organisation_kind" ON "organisations" ("kind");
-- Create index "organisation_name_country" to table: "organisations"
CREATE UNIQUE INDEX "organisation_name_country" ON "organisations" ("name", "country");
-- Create "affiliations" table
CREATE TABLE "affiliations" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "position" character varying NOT NULL DEFAULT '', "organisation_id" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "affiliations_organisations_affiliations" FOREIGN KEY ("organisation_id") REFERENCES "organisations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "affiliations_users_affiliations" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "affiliation_organisation_id" to table: "affiliations"
CREATE INDEX "affiliation_organisation_id" ON "affiliations" ("organisation_id");
-- Create index "affiliation_user_id_organisation_id" to table: "affiliations"
CREATE UNIQUE INDEX "affiliation_user_id_organisation_id" ON "affiliations" ("user_id", "organisation_id");
-- Create "host_centres" table
CREATE TABLE "host_centres" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "city" character varying NOT NULL, "country" character varying NOT NULL, "languages" jsonb NOT NULL, "adult" boolean NOT NULL DEFAULT false, "paediatric" boolean NOT NULL DEFAULT false, "focus_areas" jsonb NOT NULL, "accreditation" character varying NOT NULL DEFAULT '', "accreditation_expires_on" character varying NULL, "products" jsonb NOT NULL, "annual_patients" bigint NOT NULL DEFAULT 0, "description" character varying NOT NULL DEFAULT '', "accepting_observers" boolean NOT NULL DEFAULT false, "organisation_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "host_centres_organisations_host_centres" FOREIGN KEY ("organisation_id") REFERENCES "organisations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "hostcentre_accepting_observers" to table: "host_centres"
CREATE INDEX "hostcentre_accepting_observers" ON "host_centres" ("accepting_observers");
-- Create index "hostcentre_country" to table: "host_centres"
CREATE INDEX "hostcentre_country" ON "host_centres" ("country");
-- Create index "hostcentre_organisation_id" to table: "host_centres"
CREATE INDEX "hostcentre_organisation_id" ON "host_centres" ("organisation_id");
-- Create "host_centre_coordinators" table
CREATE TABLE "host_centre_coordinators" ("host_centre_id" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("host_centre_id", "user_id"), CONSTRAINT "host_centre_coordinators_host_centre_id" FOREIGN KEY ("host_centre_id") REFERENCES "host_centres" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "host_centre_coordinators_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
