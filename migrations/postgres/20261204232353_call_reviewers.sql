-- Modify "calls" table
ALTER TABLE "calls" ADD COLUMN "review_published_at" timestamptz NULL;
-- Create "call_reviewers" table
CREATE TABLE "call_reviewers" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "call_id" character varying NOT NULL, "user_id" character varying NOT NULL, "appointed_by_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "call_reviewers_calls_reviewers" FOREIGN KEY ("call_id") REFERENCES "calls" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "call_reviewers_users_appointed_by" FOREIGN KEY ("appointed_by_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "call_reviewers_users_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "callreviewer_call_id_user_id" to table: "call_reviewers"
CREATE UNIQUE INDEX "callreviewer_call_id_user_id" ON "call_reviewers" ("call_id", "user_id");
-- Create index "callreviewer_user_id" to table: "call_reviewers"
CREATE INDEX "callreviewer_user_id" ON "call_reviewers" ("user_id");
-- Create "review_assignments" table
CREATE TABLE "review_assignments" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "application_id" character varying NOT NULL, "reviewer_id" character varying NOT NULL, "assigned_by_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "review_assignments_applications_review_assignments" FOREIGN KEY ("application_id") REFERENCES "applications" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "review_assignments_users_assigned_by" FOREIGN KEY ("assigned_by_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "review_assignments_users_reviewer" FOREIGN KEY ("reviewer_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "reviewassignment_application_id_reviewer_id" to table: "review_assignments"
CREATE UNIQUE INDEX "reviewassignment_application_id_reviewer_id" ON "review_assignments" ("application_id", "reviewer_id");
-- Create index "reviewassignment_reviewer_id" to table: "review_assignments"
CREATE INDEX "reviewassignment_reviewer_id" ON "review_assignments" ("reviewer_id");
