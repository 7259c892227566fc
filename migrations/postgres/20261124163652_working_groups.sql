-- Modify "login_links" table
ALTER TABLE "login_links" ADD COLUMN "intent" character varying NOT NULL DEFAULT '';
-- Create "working_groups" table
CREATE TABLE "working_groups" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "work_package" character varying NOT NULL, "purpose" character varying NOT NULL DEFAULT '', "visibility" character varying NOT NULL DEFAULT 'INTERNAL', "archived" boolean NOT NULL DEFAULT false, PRIMARY KEY ("id"));
-- Create index "working_groups_name_key" to table: "working_groups"
CREATE UNIQUE INDEX "working_groups_name_key" ON "working_groups" ("name");
-- Create "memberships" table
CREATE TABLE "memberships" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "role" character varying NOT NULL, "term_start" character varying NOT NULL, "term_end" character varying NOT NULL, "answer" character varying NOT NULL DEFAULT 'PENDING', "answered_at" timestamptz NULL, "ended_on" character varying NULL, "end_reason" character varying NOT NULL DEFAULT '', "invited_by_id" character varying NULL, "organisation_id" character varying NULL, "user_id" character varying NOT NULL, "group_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "memberships_organisations_organisation" FOREIGN KEY ("organisation_id") REFERENCES "organisations" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "memberships_users_memberships" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "memberships_working_groups_memberships" FOREIGN KEY ("group_id") REFERENCES "working_groups" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "membership_group_id" to table: "memberships"
CREATE INDEX "membership_group_id" ON "memberships" ("group_id");
-- Create index "membership_group_id_role" to table: "memberships"
CREATE INDEX "membership_group_id_role" ON "memberships" ("group_id", "role");
-- Create index "membership_term_end" to table: "memberships"
CREATE INDEX "membership_term_end" ON "memberships" ("term_end");
-- Create index "membership_user_id" to table: "memberships"
CREATE INDEX "membership_user_id" ON "memberships" ("user_id");
