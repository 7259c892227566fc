-- Create "conflict_of_interest_declarations" table
CREATE TABLE "conflict_of_interest_declarations" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "declared_on" character varying NOT NULL, "nothing_to_declare" boolean NOT NULL, "interests" jsonb NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "conflict_of_interest_declarati_bf8286cf6784241ebc1bfcacc720e4a7" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "conflictofinterestdeclaration_user_id_declared_on" to table: "conflict_of_interest_declarations"
CREATE INDEX "conflictofinterestdeclaration_user_id_declared_on" ON "conflict_of_interest_declarations" ("user_id", "declared_on");
-- Create "meetings" table
CREATE TABLE "meetings" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "title" character varying NOT NULL, "starts_at" timestamptz NOT NULL, "ends_at" timestamptz NOT NULL, "time_zone" character varying NOT NULL, "location" character varying NOT NULL DEFAULT '', "video_link" character varying NOT NULL DEFAULT '', "agenda" character varying NOT NULL DEFAULT '', "minutes" character varying NOT NULL DEFAULT '', "sequence" bigint NOT NULL DEFAULT 0, "cancelled_at" timestamptz NULL, "cancel_reason" character varying NOT NULL DEFAULT '', "group_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "meetings_working_groups_meetings" FOREIGN KEY ("group_id") REFERENCES "working_groups" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "meeting_group_id_starts_at" to table: "meetings"
CREATE INDEX "meeting_group_id_starts_at" ON "meetings" ("group_id", "starts_at");
-- Create index "meeting_starts_at" to table: "meetings"
CREATE INDEX "meeting_starts_at" ON "meetings" ("starts_at");
-- Create "meeting_attendees" table
CREATE TABLE "meeting_attendees" ("meeting_id" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("meeting_id", "user_id"), CONSTRAINT "meeting_attendees_meeting_id" FOREIGN KEY ("meeting_id") REFERENCES "meetings" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "meeting_attendees_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create "meeting_invitees" table
CREATE TABLE "meeting_invitees" ("meeting_id" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("meeting_id", "user_id"), CONSTRAINT "meeting_invitees_meeting_id" FOREIGN KEY ("meeting_id") REFERENCES "meetings" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "meeting_invitees_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
